"""Writing one part's segment: a deterministic tar stream, cut into chunks that are compressed
in parallel threads and written in order, with every file hashed in the same single read."""

from __future__ import annotations

import hashlib
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from samepack.bundle.batch import PARALLEL_FROM, SMALL, Batches, process_pool
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
        # Frames are written and hashed by one thread of their own, beside the reading (and
        # hashing) of source files in the caller's thread.
        self.output = ThreadPoolExecutor(max_workers=1)
        self.outgoing: deque[Future] = deque()

    def write(self, data: bytes) -> None:
        self.pieces.append(data)
        self.buffered += len(data)
        if self.buffered >= self.chunk:
            self._submit()

    def write_all(self, pieces: list[bytes]) -> None:
        """``write`` each piece in turn (chunks are cut at the same places)."""
        chunk, buffered = self.chunk, self.buffered
        for data in pieces:
            self.pieces.append(data)
            buffered += len(data)
            if buffered >= chunk:
                self.buffered = buffered
                self._submit()
                buffered = 0
        self.buffered = buffered

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
        self.size += len(frame)
        self.outgoing.append(self.output.submit(self._output, frame))
        while len(self.outgoing) > 2:
            self.outgoing.popleft().result()

    def _output(self, frame: bytes) -> None:
        self.handle.write(frame)
        self.digest.update(frame)

    def close(self) -> tuple[int, str]:
        self._submit()
        while self.inflight:
            self._drain_one()
        while self.outgoing:
            self.outgoing.popleft().result()
        self.output.shutdown()
        return self.size, self.digest.hexdigest()

    def abort(self) -> None:
        """Stop the output thread (after an error; ``close`` does it otherwise)."""
        self.output.shutdown(wait=True, cancel_futures=True)


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


def _small(source: Source) -> bool:
    return (source.file is not None and source.produce is None and source.data is None
            and source.size() <= SMALL)


def write_part(name: str, sources: list[Source], target: Path, compression: str,
               level: int | None, pool: ThreadPoolExecutor, screen=None) -> Part:
    """Write the segment of part ``name`` to ``target``; members go in sorted path order.
    ``screen`` (a :class:`samepack.bundle.parts.SecretScreen`) checks small files' content and
    records those it leaves out. Small files are packed in batches, in worker processes when
    there are many."""
    ordered = sorted(sources, key=lambda s: s.path.encode())
    small = sum(1 for source in ordered if _small(source))
    members: list[Member] = []
    with ExitStack() as stack:
        handle = stack.enter_context(open(target, "xb"))
        writer = SegmentWriter(handle, compression, level, pool)
        stack.callback(writer.abort)
        executor = stack.enter_context(process_pool()) if small >= PARALLEL_FROM else None

        def emit(pieces: list[bytes], packed: list[Member],
                 dropped: list[tuple[str, str]]) -> None:
            writer.write_all(pieces)
            members.extend(packed)
            for path, reason in dropped:
                screen.drop(path, reason)

        batches = Batches(screen.check if screen else None, emit, executor)
        stack.callback(batches.cancel)
        for source in ordered:
            if _small(source):
                batches.add(source.path, source.file, source.mode, source.size())
                continue
            batches.flush()
            if source.produce is not None:
                source = Source(source.path, source.mode, data=source.produce(members))
            members.append(add_member(writer, source))
        batches.flush()
        size, sha = writer.close()
    return Part(name, compression, size, sha, members)
