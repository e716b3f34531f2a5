"""The manifest's bytes: canonical JSON; in format 3 the parts without their members (those are
in each part's index), padded after a data part so its length does not depend on that part's
numbers; and the index itself, which gives back the members it was made from."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from samepack.bundle.format.index import decode_index, encode_index
from samepack.bundle.format.manifest import (SIZE_DIGITS, Index, Manifest, Member, Part,
                                             canonical_json)
from samepack.errors import VerificationError

TRICKY = ['code/é "quoted" \\ back.py', 'code/"members":[].py', "code/tab\there", "code/日本.py",
          "code/" + "x" * 300]


def _members(sizes: tuple[int, ...]) -> list[Member]:
    return [Member(path, size, mode, f"{index:064x}")
            for index, (path, size, mode) in enumerate(
                zip(TRICKY, sizes, [0o644, 0o755, 0o644, 0o755, 0o644]))]


def _manifest(sizes: tuple[int, ...], with_data: bool, data_size: int = 77,
              index_size: int = 5, frame: int = 60, format_version: int = 3) -> Manifest:
    members = _members(sizes)
    index = Index(5, "e" * 64, 60) if format_version >= 3 else None
    parts = [Part("program", "gzip", 123, "a" * 64, members[:1], index),
             Part("code", "gzip", 4567, "b" * 64, members[1:], index)]
    if with_data:
        data_index = Index(index_size, "e" * 64, frame) if format_version >= 3 else None
        parts.append(Part("data", "gzip", data_size, "d" * 64, [], data_index))
    return Manifest('name "with" quotes', "1.0", 1700000000, "gzip", "0.1.0", parts,
                    format_version)


@pytest.mark.parametrize("with_data", [False, True])
def test_format3_bytes_list_the_parts_and_their_indexes_only(with_data: bool) -> None:
    manifest = _manifest((0, 1, 22, 333, 4444), with_data)
    raw = manifest.to_bytes()
    parsed = json.loads(raw)
    assert raw.rstrip(b" ") == canonical_json(parsed)
    assert all("members" not in part and part["index"] == {"frame": 60, "sha256": "e" * 64,
                                                           "size": 5}
               for part in parsed["parts"])
    again = Manifest.from_bytes(raw)
    assert [p.members for p in again.parts] == [None] * len(manifest.parts)
    assert [p.index for p in again.parts] == [p.index for p in manifest.parts]


def test_format2_bytes_hold_the_members() -> None:
    manifest = _manifest((0, 1, 22, 333, 4444), True, format_version=2)
    raw = manifest.to_bytes()
    assert raw.rstrip(b" ") == canonical_json(manifest.to_dict())
    assert Manifest.from_bytes(raw).members() == manifest.members()


def test_padding_keeps_the_length_whatever_the_data_numbers() -> None:
    sizes = (0, 1, 22, 333, 4444)
    lengths = {len(_manifest(sizes, True, size, index, frame).to_bytes())
               for size, index, frame in ((0, 0, 1), (9, 10, 99), (12345, 7, 1234),
                                          (10**12, 10**8, 10**7), (10**19, 10**19, 10**19))}
    assert len(lengths) == 1
    raw = _manifest(sizes, True, 12345, 7, 1234).to_bytes()
    assert raw.endswith(b"}" + b" " * (3 * SIZE_DIGITS - 5 - 1 - 4))
    assert not _manifest(sizes, False).to_bytes().endswith(b" ")


def test_index_gives_back_its_members() -> None:
    members = _members((0, 1, 22, 333, 4444))
    raw = encode_index("code", members)
    assert decode_index("code", raw) == members
    assert decode_index("code", encode_index("code", [])) == []
    assert raw == canonical_json(json.loads(raw))


@pytest.mark.parametrize("change, field", [
    (lambda d: d.update(part="env"), "names part 'env'"),
    (lambda d: d["size"].append(3), "differ in length"),
    (lambda d: d.update(sha256=d["sha256"][:-4]), "field sha256 holds"),
    (lambda d: d.update(sha256="!" + d["sha256"][1:]), "not base64"),
    (lambda d: d["mode"].__setitem__(0, "4755"), "mode[0] '4755'"),
    (lambda d: d["size"].__setitem__(1, -1), "size[1]"),
    (lambda d: d["path"].__setitem__(2, 7), "path[2]"),
])
def test_a_bad_index_names_the_file_and_the_field(change, field: str) -> None:
    data = json.loads(encode_index("code", _members((0, 1, 22, 333, 4444))))
    change(data)
    with pytest.raises(VerificationError, match=re.escape(field)) as raised:
        decode_index("code", canonical_json(data))
    assert raised.value.message.startswith("samepack-bundle/code.json: ")


def test_an_index_entry_of_the_wrong_kind_is_named() -> None:
    data = json.loads(encode_index("code", _members((0, 1, 22, 333, 4444))))
    data["mode"][3] = ["0644"]
    with pytest.raises(VerificationError, match=re.escape("mode[3] ['0644']")):
        decode_index("code", canonical_json(data))
    data = json.loads(encode_index("code", _members((0, 1, 22, 333, 4444))))
    data["size"][4] = True
    with pytest.raises(VerificationError, match=re.escape("size[4]")):
        decode_index("code", canonical_json(data))


def test_indexes_are_bounded_in_all() -> None:
    manifest = _manifest((0, 1, 22, 333, 4444), False)
    big = Index(200 * 1024 * 1024, "e" * 64, 60)
    manifest.parts = [dataclasses.replace(part, index=big) for part in manifest.parts]
    with pytest.raises(VerificationError, match="indexes add up to more than"):
        Manifest.from_bytes(manifest.to_bytes())
