"""The physical layout: segments that tar, tarfile and the OCI mapping all agree on."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import zstandard

from samepack.bundle.format import layout
from samepack.bundle.format.frames import raw_zstd, stored_gzip
from samepack.bundle.format.manifest import Manifest
from samepack.bundle.write.writer import Source, write_part
from samepack.errors import VerificationError


def build(tmp_path: Path, compression: str = "gzip", big: bytes = b"") -> tuple[Path, bytes, list]:
    parts, files = [], []
    with ThreadPoolExecutor(2) as pool:
        contents = {
            "program": [Source("program/samepack.yaml", 0o644, data=b"name: x\n")],
            "code": [Source("code/train.py", 0o755, data=b"print(1)\n" * 1000),
                     Source("code/big.bin", 0o644, data=big or bytes(range(256)) * 40000)],
        }
        for name, sources in contents.items():
            target = tmp_path / f"{name}.seg"
            parts.append(write_part(name, sources, target, compression, None, pool))
            files.append((name, target))
    manifest = Manifest("demo", "1.0", 0, compression, "0.1.0", parts)
    out = tmp_path / "demo.tgz"
    layout.assemble(manifest.to_bytes(), files, out)
    return out, manifest.to_bytes(), files


def test_gzip_bundle_reads_with_tarfile_and_gnu_tar(tmp_path: Path) -> None:
    out, manifest_bytes, _ = build(tmp_path)
    with tarfile.open(out) as archive:
        names = archive.getnames()
        assert archive.extractfile("code/train.py").read() == b"print(1)\n" * 1000
    assert names == ["samepack-bundle.json", "program/samepack.yaml",
                     "samepack-bundle/program.json", "code/big.bin", "code/train.py",
                     "samepack-bundle/code.json"]
    listing = subprocess.run(["tar", "-tzf", out], capture_output=True, text=True, check=True)
    assert listing.stdout.split() == names
    assert gzip.decompress(out.read_bytes())[-1024:] == bytes(1024)


def test_zstd_bundle_reads_with_zstandard(tmp_path: Path) -> None:
    out, _, _ = build(tmp_path, "zstd")
    reader = zstandard.ZstdDecompressor().stream_reader(out.open("rb"), read_across_frames=True)
    with tarfile.open(fileobj=reader, mode="r|") as archive:
        assert [m.name for m in archive][0] == "samepack-bundle.json"


def test_segments_match_manifest_and_reassemble_identically(tmp_path: Path) -> None:
    out, manifest_bytes, files = build(tmp_path)
    raw_manifest, manifest = layout.read_manifest(out)
    assert raw_manifest == manifest_bytes
    segments = layout.segments(out)
    assert [s.part for s in segments] == ["program", "code"]
    data = out.read_bytes()
    for segment, (_, path) in zip(segments, files):
        piece = data[segment.offset:segment.offset + segment.size]
        assert piece == path.read_bytes()
        assert hashlib.sha256(piece).hexdigest() == segment.sha256
        assert segment.media_type == "application/vnd.samepack.%s.v1.tar+gzip" % segment.part
    assert data.startswith(layout.header_segment(manifest_bytes))
    assert data.endswith(layout.trailer_segment("gzip"))
    # Reassemble from the manifest bytes and the cut-out parts: byte-identical.
    cut = []
    for segment in segments:
        piece = tmp_path / f"cut-{segment.part}"
        piece.write_bytes(data[segment.offset:segment.offset + segment.size])
        cut.append((segment.part, piece))
    again = tmp_path / "again.tgz"
    layout.assemble(manifest_bytes, cut, again)
    assert again.read_bytes() == data


def test_assemble_rejects_a_changed_part_and_leaves_no_output(tmp_path: Path) -> None:
    out, manifest_bytes, files = build(tmp_path)
    bad = tmp_path / "bad.seg"
    data = files[1][1].read_bytes()
    bad.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(VerificationError, match="sha256"):
        layout.assemble(manifest_bytes, [files[0], ("code", bad)], tmp_path / "x.tgz")
    assert not (tmp_path / "x.tgz").exists()
    assert not [p for p in tmp_path.iterdir() if "samepack-tmp" in p.name]


def test_segments_rejects_appended_data(tmp_path: Path) -> None:
    out, _, _ = build(tmp_path)
    with out.open("ab") as handle:
        handle.write(gzip.compress(b"x" * 600))
    with pytest.raises(VerificationError, match="bytes"):
        layout.segments(out)


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 200_000])
def test_stored_frames_decode_with_standard_decoders(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    assert gzip.decompress(stored_gzip(data)) == data
    assert zstandard.ZstdDecompressor().decompress(raw_zstd(data)) == data


def test_incompressible_chunks_are_stored(tmp_path: Path) -> None:
    import os
    noise = os.urandom(3 * 1024 * 1024)
    out, _, files = build(tmp_path, big=noise)
    assert files[1][1].stat().st_size > len(noise)  # stored, not deflated
    with tarfile.open(out) as archive:
        assert archive.extractfile("code/big.bin").read() == noise


@pytest.mark.parametrize("name,size,mode", [
    ("a", 0, 0o644), ("code/x/y.py", 12345, 0o755), ("d" * 100, 8 ** 11 - 1, 0o644),
    ("code/caf\u00e9.py", 5, 0o644), ("d" * 101, 5, 0o644), ("big.bin", 8 ** 11, 0o644)])
def test_member_headers_match_tarfile(name: str, size: int, mode: int) -> None:
    from samepack.bundle.format.tarblocks import member_header

    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime, info.uid, info.gid = size, mode, 0, 0, 0
    info.uname = info.gname = ""
    assert member_header(name, size, mode) == info.tobuf(tarfile.PAX_FORMAT, "utf-8",
                                                         "surrogateescape")
