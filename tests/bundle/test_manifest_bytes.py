"""The manifest's bytes: canonical JSON (member lists formatted directly give the same bytes),
padded after a data part so its length does not depend on that part's size."""

from __future__ import annotations

import json

import pytest

from samepack.bundle.format.manifest import SIZE_DIGITS, Manifest, Member, Part, canonical_json

TRICKY = ['code/é "quoted" \\ back.py', 'code/"members":[].py', "code/tab\there", "code/日本.py",
          "code/" + "x" * 300]


def _manifest(sizes: tuple[int, ...], with_data: bool, data_size: int = 77) -> Manifest:
    members = [Member(path, size, mode, f"{index:064x}")
               for index, (path, size, mode) in enumerate(
                   zip(TRICKY, sizes, [0o644, 0o755, 0o644, 0o755, 0o644]))]
    parts = [Part("program", "gzip", 123, "a" * 64, members[:1]),
             Part("code", "gzip", 4567, "b" * 64, members[1:]),
             Part("infra", "gzip", 1, "c" * 64, [])]
    if with_data:
        parts.append(Part("data", "gzip", data_size, "d" * 64, []))
    return Manifest('name "with" quotes', "1.0", 1700000000, "gzip", "0.1.0", parts)


@pytest.mark.parametrize("with_data", [False, True])
def test_bytes_are_the_canonical_json(with_data: bool) -> None:
    manifest = _manifest((0, 1, 22, 333, 4444), with_data)
    raw = manifest.to_bytes()
    assert raw.rstrip(b" ") == canonical_json(manifest.to_dict())
    assert json.loads(raw) == manifest.to_dict()


def test_padding_keeps_the_length_whatever_the_data_size() -> None:
    sizes = (0, 1, 22, 333, 4444)
    lengths = {len(_manifest(sizes, True, size).to_bytes())
               for size in (0, 9, 10, 12345, 10**12, 10**19)}
    assert len(lengths) == 1
    raw = _manifest(sizes, True, 12345).to_bytes()
    assert raw.endswith(b"}" + b" " * (SIZE_DIGITS - 5))
    assert not _manifest(sizes, False).to_bytes().endswith(b" ")
