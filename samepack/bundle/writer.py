"""Writing one part's segment: a deterministic tar stream, cut into chunks that are compressed
in parallel threads and written in order, with every file hashed in the same single read."""

from __future__ import annotations

import hashlib
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from samepack.bundle.frames import compress_chunk
from samepack.bundle.manifest import Member, Part
from samepack.bundle.tarblocks import member_header, padding
from samepack.errors import InputError

CHUNK = 4 * 1024 * 1024
_READ = 1024 * 1024


@dataclass(frozen=True)
class Source:
    """One member to write: its path in the bundle and where its bytes come from."""

    path: str
    mode: int
    file: Path | str | None = None
    data: bytes | None = None
    # Content made at write time from the members written before it in the same part.
    produce: "Callable[[list[Member]], bytes] | None" = None
    known_size: int | None = None  # from a listing's stat, saves another

    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        return self.known_size if self.known_size is not None else os.stat(self.file).st_size


def file_mode(path: Path) -> int:
    """0755 for files anyone may execute, else 0644."""
    return 0o755 if os.stat(path).st_mode & 0o111 else 0o644


class SegmentWriter:
    """Accumulates tar bytes and hands full chunks to the pool; frames are written to
    ``handle`` in order and hashed as they go."""

    def __init__(self, handle, compression: str, level: int | None, pool: ThreadPoolExecutor,
                 chunk: int = CHUNK) -> None:
        self.handle, self.compression, self.level = handle, compression, level
        self.pool, self.chunk = pool, chunk
        self.pieces: list[bytes] = []
        self.buffered = 0
        self.inflight: deque[Future] = deque()
        self.limit = 2 * (pool._max_workers or 1)
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.pieces.append(data)
        self.buffered += len(data)
        if self.buffered >= self.chunk:
            self._submit()

    def _submit(self) -> None:
        if not self.pieces:
            return
        chunk = self.pieces[0] if len(self.pieces) == 1 else b"".join(self.pieces)
        self.pieces, self.buffered = [], 0
        self.inflight.append(self.pool.submit(compress_chunk, chunk, self.compression,
                                              self.level))
        while len(self.inflight) > self.limit:
            self._drain_one()

    def _drain_one(self) -> None:
        frame = self.inflight.popleft().result()
        self.handle.write(frame)
        self.digest.update(frame)
        self.size += len(frame)

    def close(self) -> tuple[int, str]:
        self._submit()
        while self.inflight:
            self._drain_one()
        return self.size, self.digest.hexdigest()


def _stream_file(writer: SegmentWriter, source: Source, size: int) -> str:
    digest, left = hashlib.sha256(), size
    with open(source.file, "rb", buffering=0) as handle:
        while left:
            # Read up to the end of the current chunk so whole chunks pass without copying.
            want = min(left, max(writer.chunk - writer.buffered, _READ))
            data = handle.read(want)
            if not data:
                raise InputError(f"{source.file}: the file shrank while it was being exported",
                                 hint="export again when nothing writes to the project")
            digest.update(data)
            writer.write(data)
            left -= len(data)
    return digest.hexdigest()


def add_member(writer: SegmentWriter, source: Source) -> Member:
    """Write one member (header, content, padding) and return its manifest entry."""
    size = source.size()
    writer.write(member_header(source.path, size, source.mode))
    if source.data is not None:
        writer.write(source.data)
        sha = hashlib.sha256(source.data).hexdigest()
    else:
        sha = _stream_file(writer, source, size)
    writer.write(padding(size))
    return Member(source.path, size, source.mode, sha)


Screen = Callable[[Source], "Source | None"]


def write_part(name: str, sources: list[Source], target: Path, compression: str,
               level: int | None, pool: ThreadPoolExecutor, screen: Screen | None = None) -> Part:
    """Write the segment of part ``name`` to ``target``; members go in sorted path order.
    ``screen`` may replace a source (e.g. by its checked content) or drop it (None)."""
    members = []
    with open(target, "xb") as handle:
        writer = SegmentWriter(handle, compression, level, pool)
        for source in sorted(sources, key=lambda s: s.path.encode()):
            screened = screen(source) if screen else source
            if screened is not None and screened.produce is not None:
                screened = Source(screened.path, screened.mode, data=screened.produce(members))
            if screened is not None:
                members.append(add_member(writer, screened))
        size, sha = writer.close()
    return Part(name, compression, size, sha, members)
