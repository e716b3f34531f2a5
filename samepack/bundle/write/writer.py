"""Writing one part's segment: a deterministic tar stream, cut into chunks that are compressed
in parallel threads and written in order, with every file hashed in the same single read."""

from __future__ import annotations

import hashlib
import os
import stat
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import BinaryIO, Callable

from samepack.bundle.write.batch import (BATCH_FILES, OPEN_FLAGS, PARALLEL_FROM, SMALL, Item,
                                         Piped, exec_mode, pack, packed_batches)
from samepack.bundle.system.children import FORK_SAFE
from samepack.bundle.format.frames import compress_chunk
from samepack.bundle.format.index import encode_index, index_path
from samepack.bundle.format.manifest import Index, Member, Part
from samepack.bundle.format.tarblocks import member_header, padding
from samepack.errors import InputError

CHUNK = 4 * 1024 * 1024


@dataclass(slots=True)
class Source:
    """One member to write: its path in the bundle and where its bytes come from. ``mode``
    None takes it from the file (0755 when anyone may execute it). Not frozen: a large tree
    makes one per file, and a frozen dataclass costs three times as much to create."""

    path: str
    mode: int | None
    file: Path | str | None = None
    data: bytes | None = None
    # Content made at write time from the members written before it in the same part.
    produce: "Callable[[list[Member]], bytes] | None" = None


def file_mode(path: Path) -> int:
    """0755 for files anyone may execute, else 0644."""
    return exec_mode(os.stat(path).st_mode)


class SegmentWriter:
    """Copies tar bytes into a chunk buffer and hands each full chunk to the pool; frames are
    written to ``handle`` in order and hashed as they go. Bytes from a file or a worker's pipe
    are read straight into the chunk (``write_from``), with no copy in between; a buffer is
    used again once its chunk is compressed."""

    def __init__(self, handle, compression: str, level: int | None, pool: ThreadPoolExecutor,
                 chunk: int = CHUNK, on_bytes: "Callable[[int], None] | None" = None) -> None:
        self.handle, self.compression, self.level = handle, compression, level
        self.on_bytes = on_bytes  # told of every tar byte written (a progress bar)
        self.pool, self.chunk = pool, chunk
        self.buffer = bytearray(chunk)
        self.buffered = 0
        self.spare: list[bytearray] = []  # buffers whose chunks are compressed (a few)
        self.inflight: deque[Future] = deque()
        self.limit = 2 * (pool._max_workers or 1)
        self.digest = hashlib.sha256()
        self.size = 0
        # Frames are written and hashed by one thread of their own, beside the reading (and
        # hashing) of source files in the caller's thread.
        self.output = ThreadPoolExecutor(max_workers=1)
        self.outgoing: deque[Future] = deque()

    def write(self, data: bytes) -> None:
        """Add tar bytes; every full chunk (cut at exact multiples of ``chunk`` bytes of the
        stream, so cuts depend on the stream alone) goes to the compressors."""
        size = len(data)
        if self.on_bytes is not None:
            self.on_bytes(size)
        at = self.buffered
        if at + size < self.chunk:  # nearly always: it fits
            self.buffer[at:at + size] = data
            self.buffered = at + size
            return
        view, done = memoryview(data), 0
        while done < size:
            take = min(self.chunk - self.buffered, size - done)
            self.buffer[self.buffered:self.buffered + take] = view[done:done + take]
            self.buffered += take
            done += take
            if self.buffered == self.chunk:
                self._submit()

    def write_from(self, source, length: int, digest=None) -> int:
        """Add up to ``length`` bytes read from ``source`` (``readinto``) straight into the
        chunk, each piece also given to ``digest``; the bytes read (fewer only where
        ``source`` ended)."""
        done = 0
        while done < length:
            take = min(self.chunk - self.buffered, length - done)
            view = memoryview(self.buffer)[self.buffered:self.buffered + take]
            count = source.readinto(view)
            if not count:
                break
            if digest is not None:
                digest.update(view[:count])
            self.buffered += count
            done += count
            if self.on_bytes is not None:
                self.on_bytes(count)
            if self.buffered == self.chunk:
                self._submit()
        return done

    def _submit(self) -> None:
        if not self.buffered:
            return
        self.inflight.append(self.pool.submit(self._compress, self.buffer, self.buffered))
        try:
            self.buffer = self.spare.pop()
        except IndexError:
            self.buffer = bytearray(self.chunk)
        self.buffered = 0
        while len(self.inflight) > self.limit:
            self._drain_one()

    def _compress(self, buffer: bytearray, used: int) -> bytes:
        """In a pool thread: the frame of ``buffer``'s first ``used`` bytes; the buffer is
        then free for another chunk (two are kept, so memory stays as it was with a new
        buffer per chunk)."""
        chunk = buffer if used == len(buffer) else memoryview(buffer)[:used]
        frame = compress_chunk(chunk, self.compression, self.level)
        del chunk
        if len(self.spare) < 2:
            self.spare.append(buffer)
        return frame

    def _drain_one(self) -> None:
        frame = self.inflight.popleft().result()
        self.size += len(frame)
        self.outgoing.append(self.output.submit(self._output, frame))
        while len(self.outgoing) > 2:
            self.outgoing.popleft().result()

    def _output(self, frame: bytes) -> None:
        self.handle.write(frame)
        self.digest.update(frame)

    def cut(self) -> int:
        """End the current chunk here (what follows starts a frame of its own, and chunks
        are counted from here on); the compressed size so far."""
        self._submit()
        while self.inflight:
            self._drain_one()
        return self.size

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


def _stream_file(writer: SegmentWriter, source: Source, handle, size: int) -> str:
    digest = hashlib.sha256()
    if writer.write_from(handle, size, digest) < size:
        raise InputError(f"{source.file}: the file shrank while it was being exported",
                         hint="export again when nothing writes to the project")
    return digest.hexdigest()


def add_member(writer: SegmentWriter, source: Source) -> Member:
    """Write one member (header, content, padding) and return its manifest entry."""
    if source.data is not None:
        size, mode = len(source.data), source.mode or 0o644
        writer.write(member_header(source.path, size, mode))
        writer.write(source.data)
        sha = hashlib.sha256(source.data).hexdigest()
    else:
        with open(os.open(source.file, OPEN_FLAGS), "rb", buffering=0) as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise InputError(f"{source.file}: not a regular file",
                                 hint="bundles hold regular files only")
            size = info.st_size
            mode = exec_mode(info.st_mode) if source.mode is None else source.mode
            writer.write(member_header(source.path, size, mode))
            sha = _stream_file(writer, source, handle, size)
    writer.write(padding(size))
    return Member(source.path, size, mode, sha)


def _plan(ordered: list[Source]) -> list["Source | list[Item]"]:
    """The sources in order, runs of plain files grouped into batches of items to pack."""
    plan: list = []
    batch: list[Item] | None = None
    for source in ordered:
        if source.file is None or source.produce is not None or source.data is not None:
            plan.append(source)
            batch = None
            continue
        if batch is None or len(batch) >= BATCH_FILES:
            batch = []
            plan.append(batch)
        batch.append((source.path, os.fspath(source.file), source.mode))
    return plan


def _in_path_order(sources: list[Source]) -> list[Source]:
    """Sorted by UTF-8 path bytes. For ASCII paths (nearly always) that is the order of the
    strings themselves, sorted without encoding each."""
    if "".join(map(attrgetter("path"), sources)).isascii():
        return sorted(sources, key=attrgetter("path"))
    return sorted(sources, key=lambda s: s.path.encode("utf-8", "surrogateescape"))


def write_part(name: str, sources: list[Source], target: "Path | BinaryIO", compression: str,
               level: int | None, pool: ThreadPoolExecutor, screen=None,
               on_bytes: "Callable[[int], None] | None" = None) -> Part:
    """Write the segment of part ``name`` to ``target`` (a new file, or an open binary file
    at the segment's offset); members go in sorted path order.
    Files are packed in batches (:mod:`samepack.bundle.write.batch`), in worker processes
    when there are many; ``screen`` (a :class:`samepack.bundle.parts.selection.SecretScreen`)
    checks their content and records what was left out (links, special files, secrets).
    Without a screen, a file that cannot be packed is an error."""
    ordered = _in_path_order(sources)
    plan = _plan(ordered)
    batches = [step for step in plan if isinstance(step, list)]
    parallel = sum(map(len, batches)) >= PARALLEL_FROM and FORK_SAFE
    by_path: dict[str, Source] = {}  # made when first needed (a large or unpackable file)

    def source_of(path: str) -> Source:
        if not by_path:
            by_path.update((source.path, source) for source in ordered)
        return by_path[path]

    check = screen.check if screen else None
    passed_before = screen.passed_before if screen else frozenset()
    members: list[Member] = []
    with ExitStack() as stack:
        handle = (stack.enter_context(open(target, "xb")) if isinstance(target, (str, Path))
                  else target)
        writer = SegmentWriter(handle, compression, level, pool, on_bytes=on_bytes)
        stack.callback(writer.abort)
        packed = stack.enter_context(packed_batches(
            batches, check, passed_before, (os.cpu_count() or 2) if parallel else 1))

        def emit(items: list[Item], runs: list, dropped: list[tuple[str, str]]) -> None:
            for run in runs:
                if isinstance(run, int):  # too big for a batch: streamed here
                    path, file, mode = items[run]
                    if os.path.getsize(file) <= SMALL:
                        emit([items[run]], *pack([items[run]], check, passed_before))
                    elif screen is not None and (why := screen.check_large(path, file)):
                        screen.drop(path, why)
                    else:
                        members.append(add_member(writer, source_of(path)))
                    continue
                tar, entries = run
                if isinstance(tar, Piped):  # read from the worker's pipe into the chunk
                    if writer.write_from(tar.pipe, tar.length) < tar.length:
                        raise tar.short()
                else:  # packed in this process: its pieces as they are
                    for piece in tar:
                        writer.write(piece)
                members.extend(map(Member._make, entries))
            for path, reason in dropped:
                if screen is None:
                    raise InputError(f"{source_of(path).file}: {reason}",
                                     hint="export again when nothing changes the files")
                screen.drop(path, reason)

        for step in plan:
            if isinstance(step, list):
                emit(step, *next(packed))
                continue
            source = step
            if source.produce is not None:
                source = Source(source.path, source.mode, data=source.produce(members))
            members.append(add_member(writer, source))
        index = _write_index(writer, name, members)
        size, sha = writer.close()
    return Part(name, compression, size, sha, members, index)


def _write_index(writer: SegmentWriter, name: str, members: list[Member]) -> Index:
    """The part's index as its last member, in frames of its own (format 3)."""
    before = writer.cut()
    raw = encode_index(name, members)
    writer.write(member_header(index_path(name), len(raw), 0o644))
    writer.write(raw)
    writer.write(padding(len(raw)))
    return Index(len(raw), hashlib.sha256(raw).hexdigest(), writer.cut() - before)
