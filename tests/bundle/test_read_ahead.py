"""The read-ahead thread of bundle reading: segment digests computed beside the members'
hashing must still be the digests of the bytes read, errors must reach the reader, and the
thread must end with the read, whether it succeeded or not."""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from samepack.bundle.format import layout
from samepack.bundle.format.manifest import Manifest
from samepack.bundle.read.reader import read_bundle
from samepack.bundle.read.stream import RawReader
from samepack.bundle.write.writer import Source, write_part
from samepack.errors import VerificationError

MIB = 1024 * 1024
PROGRAM = (b"apiVersion: samepack.dev/v1\nkind: Program\nmetadata: {name: b, version: '1'}\n"
           b"steps: {main: {run: python -c pass}}\n")


def _bundle(tmp_path: Path, data: bytes) -> Path:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(data)
    sources = {"program": [Source("program/samepack.yaml", 0o644, data=PROGRAM)],
               "data": [Source("data/blob.bin", 0o644, file=blob)]}
    parts, files = [], []
    with ThreadPoolExecutor(2) as pool:
        for name, items in sources.items():
            parts.append(write_part(name, items, tmp_path / name, "gzip", None, pool))
            files.append((name, tmp_path / name))
    out = tmp_path / "b.tgz"
    layout.assemble(Manifest("b", "1", 0, "gzip", "t", parts).to_bytes(), files, out)
    return out


def _ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "samepack-read-ahead"]


def test_ranges_hashed_ahead_match_the_file(tmp_path: Path) -> None:
    data = os.urandom(9 * MIB + 123)
    path = tmp_path / "f"
    path.write_bytes(data)
    with open(path, "rb") as handle:
        raw = RawReader(handle)
        head = raw.read(1000)
        raw.set_ranges([0, 5, 3 * MIB, len(data) - 7])
        raw.read_ahead()
        rest = bytearray()
        while piece := raw.read(MIB + 3):
            rest += piece
        digests = raw.finish()
    assert head + bytes(rest) == data
    assert digests == [hashlib.sha256(data[0:5]).hexdigest(),
                       hashlib.sha256(data[5:3 * MIB]).hexdigest(),
                       hashlib.sha256(data[3 * MIB:len(data) - 7]).hexdigest()]
    assert not _ahead_threads()


def test_large_member_verifies_and_thread_ends(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, os.urandom(13 * MIB))
    verified = read_bundle(bundle)
    assert verified.manifest.part("data").members[0].size == 13 * MIB
    assert not _ahead_threads()


def test_a_flipped_byte_far_into_a_large_member_is_refused(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, os.urandom(13 * MIB))
    raw = bytearray(bundle.read_bytes())
    raw[len(raw) - 3 * MIB] ^= 0x01  # inside the data segment, in a stored block
    bundle.write_bytes(bytes(raw))
    with pytest.raises(VerificationError, match="sha256|segment|corrupt"):
        read_bundle(bundle)
    assert not _ahead_threads()


def test_a_read_error_reaches_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * (5 * MIB))

    class Failing:
        def __init__(self, handle) -> None:
            self.handle, self.reads = handle, 0

        def read(self, size: int) -> bytes:
            self.reads += 1
            if self.reads > 1:
                raise OSError(5, "Input/output error")
            return self.handle.read(size)

    with open(path, "rb") as handle:
        raw = RawReader(Failing(handle))
        raw.set_ranges([0, 5 * MIB])
        raw.read_ahead()
        with pytest.raises(OSError, match="Input/output"):
            while raw.read():
                pass
        raw.close()
    assert not _ahead_threads()


def test_the_read_ahead_thread_still_lets_the_file_maker_fork(tmp_path: Path) -> None:
    """Only the read-ahead thread is declared harmless: any other thread still forbids
    forking, and the import of many small files keeps its file-making child."""
    from samepack.bundle.system.children import FORK_SAFE, can_fork

    path = tmp_path / "f"
    path.write_bytes(b"y" * (20 * MIB))
    with open(path, "rb") as handle:
        raw = RawReader(handle)
        raw.set_ranges([0, 20 * MIB])
        raw.read_ahead()
        assert _ahead_threads()
        assert can_fork() == FORK_SAFE
        release = threading.Event()
        other = threading.Thread(target=release.wait)
        other.start()
        try:
            assert not can_fork()
        finally:
            release.set()
            other.join()
        raw.finish()
    assert not _ahead_threads()


def test_a_large_member_written_behind_the_verifier_is_identical(tmp_path: Path,
                                                                   samepack_home: Path) -> None:
    from samepack.bundle import import_bundle

    data = os.urandom(40 * MIB + 17)
    entry = import_bundle(_bundle(tmp_path, data))
    assert (Path(entry.path) / "data" / "blob.bin").read_bytes() == data
    assert not [t for t in threading.enumerate() if t.name == "samepack-write-behind"]


def test_a_write_error_behind_the_verifier_reaches_it(tmp_path: Path) -> None:
    from samepack.bundle.read.staging import _WriteBehind

    target = tmp_path / "ro"
    target.write_bytes(b"")
    writer = _WriteBehind(os.open(target, os.O_RDONLY))  # every write fails: EBADF
    with pytest.raises(OSError):
        try:
            for _ in range(64):  # the error surfaces at a later write, else at close
                writer.write(b"x" * MIB)
        finally:
            writer.close()
    assert not writer.thread.is_alive()
