"""Format 3 keeps each part's member records in an index at the end of the part's segment: the
bundle is smaller than one with the records in its (uncompressed) header, and an index that does
not match the manifest, or a part whose members do not match its index, is refused by name."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from samepack.bundle.format import layout
from samepack.bundle.format.frames import compress_chunk
from samepack.bundle.format.index import encode_index, index_path
from samepack.bundle.format.manifest import Index, Manifest, Member, Part
from samepack.bundle.format.tarblocks import member_header, padding
from samepack.bundle.read.directory import read_directory
from samepack.bundle.read.reader import read_bundle
from samepack.bundle.write.writer import Source, write_part
from samepack.errors import VerificationError

PROGRAM = b"apiVersion: samepack.dev/v1\nkind: Program\nmetadata: {name: demo, version: '1'}\n"


def _files(count: int) -> dict[str, bytes]:
    return {f"code/pkg{i % 7}/mod{i}.py": b"x = %d\n" % i * (1 + i % 5) for i in range(count)}


def _write(tmp_path: Path, files: dict[str, bytes], compression: str = "gzip") -> Path:
    parts, segments = [], []
    with ThreadPoolExecutor(2) as pool:
        for name, sources in (("program", [Source("program/samepack.yaml", 0o644, data=PROGRAM)]),
                              ("code", [Source(p, 0o644, data=d) for p, d in files.items()])):
            target = tmp_path / f"{name}.{compression}.seg"
            parts.append(write_part(name, sources, target, compression, None, pool))
            segments.append((name, target))
    manifest = Manifest("demo", "1", 0, compression, "0.1.0", parts)
    out = tmp_path / f"demo-{compression}.tgz"
    layout.assemble(manifest.to_bytes(), segments, out)
    return out


def _tar(path: str, data: bytes) -> bytes:
    return member_header(path, len(data), 0o644) + data + padding(len(data))


def _forged(tmp_path: Path, members: list[tuple[str, bytes]], listed: list[Member],
            record: "Index | None" = None) -> Path:
    """A bundle whose code segment holds ``members`` and an index listing ``listed``; the
    manifest is consistent with what was written unless ``record`` replaces its index record."""
    program_tar = _tar("program/samepack.yaml", PROGRAM)
    program_index = encode_index("program", [Member("program/samepack.yaml", len(PROGRAM), 0o644,
                                                    hashlib.sha256(PROGRAM).hexdigest())])
    parts, blobs = [], []
    for name, tar, index in (("program", program_tar, program_index),
                             ("code", b"".join(_tar(p, d) for p, d in members),
                              encode_index("code", listed))):
        body, tail = compress_chunk(tar, "gzip"), compress_chunk(_tar(index_path(name), index),
                                                                 "gzip")
        segment = body + tail
        own = Index(len(index), hashlib.sha256(index).hexdigest(), len(tail))
        parts.append(Part(name, "gzip", len(segment), hashlib.sha256(segment).hexdigest(), [],
                          record if name == "code" and record else own))
        blobs.append(segment)
    raw = Manifest("demo", "1", 0, "gzip", "0.1.0", parts).to_bytes()
    out = tmp_path / "forged.tgz"
    out.write_bytes(layout.header_segment(raw) + b"".join(blobs) + layout.trailer_segment("gzip"))
    return out


def _member(path: str, data: bytes) -> Member:
    return Member(path, len(data), 0o644, hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_members_come_from_the_indexes(tmp_path: Path, compression: str) -> None:
    files = _files(300)
    out = _write(tmp_path, files, compression)
    raw, manifest = layout.read_manifest(out)
    assert b'"members"' not in raw and len(raw) < 1024  # the header lists parts only
    assert {m.path: m.sha256 for m in manifest.part("code").members} == {
        path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
    verified = read_bundle(out)
    assert verified.manifest.members() == manifest.members()
    listing = subprocess.run(["tar", "--zstd" if compression == "zstd" else "-z", "-tf", out],
                             capture_output=True, text=True, check=True).stdout.split()
    assert listing[-1] == "samepack-bundle/code.json" and len(listing) == 1 + 1 + 1 + 300 + 1


def test_the_index_keeps_the_bundle_small(tmp_path: Path) -> None:
    """The records of 3,000 files cost less than a third of what they did in the header."""
    files = _files(3000)
    out = _write(tmp_path, files)
    manifest = layout.read_manifest(out)[1]
    old = dataclasses.replace(manifest, format=2, parts=[dataclasses.replace(p, index=None)
                                                         for p in manifest.parts])
    index_frames = sum(part.index.frame for part in manifest.parts)
    assert index_frames * 3 < len(old.to_bytes())


def test_an_index_other_than_the_manifest_records_is_refused(tmp_path: Path) -> None:
    data = b"print(1)\n"
    listed = [_member("code/a.py", data)]
    wrong = Index(10, "0" * 64, 30)
    out = _forged(tmp_path, [("code/a.py", data)], listed)
    read_bundle(out)  # consistent: accepted
    raw, manifest = layout.read_manifest(out)
    record = manifest.part("code").index
    for index, message in ((dataclasses.replace(record, sha256="0" * 64), "differs from the "
                            "manifest's record"),
                           (dataclasses.replace(record, frame=record.frame + 10),
                            "does not hold its index"),
                           (wrong, "does not hold its index")):
        out = _forged(tmp_path, [("code/a.py", data)], listed, index)
        with pytest.raises(VerificationError, match=message) as raised:
            read_bundle(out)
        assert raised.value.message.startswith(f"{out}: samepack-bundle/code.json")


def test_members_the_index_does_not_list_are_refused(tmp_path: Path) -> None:
    a, b = b"a = 1\n", b"b = 2\n"
    out = _forged(tmp_path, [("code/a.py", a), ("code/b.py", b)], [_member("code/a.py", a)])
    with pytest.raises(VerificationError, match="code/b.py.*not listed"):
        read_bundle(out)
    out = _forged(tmp_path, [("code/a.py", a)], [_member("code/a.py", a), _member("code/b.py", b)])
    with pytest.raises(VerificationError, match="missing|out of the manifest's order"):
        read_bundle(out)
    out = _forged(tmp_path, [("code/a.py", b)], [_member("code/a.py", a)])
    with pytest.raises(VerificationError, match="code/a.py.*sha256"):
        read_bundle(out)


def test_an_index_may_not_list_a_path_outside_its_part(tmp_path: Path) -> None:
    data = b"x"
    out = _forged(tmp_path, [("env/x", data)], [_member("env/x", data)])
    with pytest.raises(VerificationError, match="env/x.*part code"):
        read_bundle(out)


def test_an_extracted_bundle_checks_its_index_files(tmp_path: Path) -> None:
    out = _write(tmp_path, _files(20))
    root = tmp_path / "extracted"
    root.mkdir()
    with tarfile.open(out) as archive:
        archive.extractall(root, filter="data")
    assert len(read_directory(root).manifest.members()) == 21
    index = root / "samepack-bundle" / "code.json"
    index.write_bytes(index.read_bytes().replace(b'"code"', b'"code" '))
    with pytest.raises(VerificationError, match="samepack-bundle/code.json: differs"):
        read_directory(root)
    index.unlink()
    with pytest.raises(VerificationError, match="code.json: missing"):
        read_directory(root)
