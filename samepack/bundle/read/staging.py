"""Creating an import's files in its staging directory: new files only, no following of links,
parents made inside the directory; past the first few hundred files, by a child process on the
other core while this one verifies."""

from __future__ import annotations

import contextlib
import io
import marshal
import os
import queue
import select
import signal
import struct
import threading
from pathlib import Path
from typing import Iterable, Iterator

from samepack.bundle.system.children import (can_fork, describe_error, fork_child, read_exact,
                                             revive_error, write_all)
from samepack.bundle.format.manifest import Member

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


class _FileWriter:
    """Writes straight to a descriptor: one file per member, no buffering layer to set up."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor

    def write(self, data: bytes) -> None:
        write_all(self.descriptor, data)

    def close(self) -> None:
        os.close(self.descriptor)


class _WriteBehind:
    """Writes a large member's file from a thread of its own, a few chunks behind the
    verifier, so the writing overlaps the hashing on the other core. The chunks are views of
    immutable decoded bytes; ``close`` waits for the last one and raises the first write
    error (no space left, say) in the caller's thread."""

    _DEPTH = 8

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor
        self.chunks: queue.Queue = queue.Queue(self._DEPTH)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="samepack-write-behind",
                                       daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (data := self.chunks.get()) is not None:
            if self.error is None:
                try:
                    write_all(self.descriptor, data)
                except BaseException as error:  # raised again by write or close
                    self.error = error

    def write(self, data) -> None:
        if self.error is not None:
            raise self.error
        self.chunks.put(data)

    def close(self) -> None:
        self.chunks.put(None)
        self.thread.join()
        os.close(self.descriptor)
        if self.error is not None:
            raise self.error


class _Files:
    """Creates files under ``root``: new files only, no following of links, parents created
    inside ``root``."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.made: set[str] = set()
        self.umask = os.umask(0o022)
        os.umask(self.umask)

    def open(self, path: str, mode: int) -> int:
        parent = path.rpartition("/")[0]
        if parent not in self.made:
            os.makedirs(f"{self.root}/{parent}", exist_ok=True)
            self.made.add(parent)
        descriptor = os.open(f"{self.root}/{path}", _CREATE, mode)
        if mode & self.umask:
            os.fchmod(descriptor, mode)
        return descriptor

    def whole(self, path: str, mode: int, data) -> None:
        self.many([(path, mode, data)])

    def many(self, files: Iterable[tuple[str, int, object]]) -> None:
        """Create each ``(path, mode, content)``: ``open`` and a write in one loop, since
        per file the calls cost about as much as the system calls."""
        root, made, umask = self.root, self.made, self.umask
        for path, mode, data in files:
            parent = path.rpartition("/")[0]
            if parent not in made:
                os.makedirs(f"{root}/{parent}", exist_ok=True)
                made.add(parent)
            descriptor = os.open(f"{root}/{path}", _CREATE, mode)
            try:
                if mode & umask:
                    os.fchmod(descriptor, mode)
                written = os.write(descriptor, data) if len(data) else 0
                if written < len(data):  # a short write: rare, but allowed
                    write_all(descriptor, memoryview(data)[written:])
            finally:
                os.close(descriptor)


# The file maker's work comes as (operation, path, mode, size) entries: create a file with
# the next ``size`` bytes of content; create a file and keep it open; append the next
# ``size`` bytes to it; close it.
_WHOLE, _OPEN, _APPEND, _CLOSE = range(4)
_FRAME = struct.Struct("<II")  # lengths of the entry list and of the content that follow
_BATCH_ENTRIES, _BATCH_BYTES = 256, 512 * 1024
_PIPE_BYTES = 1024 * 1024
_DIRECT_FILES = 256  # files created in this process before a file maker is worth starting
_STREAM_HERE = 1024 * 1024  # members larger than this are written by this process
_WRITE_BEHIND = 16 * 1024 * 1024  # and past this, from a thread beside the verifier


class _FileMaker:
    """A child process that creates the staged files while this one reads and verifies.

    Creating many small files costs about as much as verifying them, nearly all in system
    calls; a second process does it on the other core (a thread would not: each return from
    a system call waits for the GIL the verifying thread holds). Batches of entries and
    content go through a pipe, which bounds the memory in flight; the child reports its first
    error back and dies with this process.
    """

    def __init__(self, files: _Files) -> None:
        import fcntl

        self.files = files
        feed_read, self.feed = os.pipe()
        self.results, results_write = os.pipe()
        with contextlib.suppress(OSError, AttributeError):
            fcntl.fcntl(self.feed, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        try:
            self.capacity = fcntl.fcntl(self.feed, fcntl.F_GETPIPE_SZ)
        except (OSError, AttributeError):
            self.capacity = 0  # unknown: always send
        parent = os.getpid()

        def serve() -> int:
            os.close(self.feed)
            os.close(self.results)
            return _Child(files, parent).serve(feed_read, results_write)

        self.pid = fork_child(serve)
        os.close(feed_read)
        os.close(results_write)
        self.batch: list[tuple[int, str, int, object]] = []
        self.size = 0
        self.whole_files_only = True
        self.limit = min(_BATCH_BYTES, self.capacity // 2) if self.capacity else _BATCH_BYTES

    def add(self, operation: int, path: str = "", mode: int = 0, data=b"") -> None:
        """Queue one entry; ``data`` must stay unchanged until it is sent."""
        if operation != _WHOLE:
            self.whole_files_only = False  # a batch this process cannot take over
        self.batch.append((operation, path, mode, data))
        self.size += len(data)
        if len(self.batch) >= _BATCH_ENTRIES or self.size >= self.limit:
            self.flush()

    def flush(self) -> None:
        """Send the pending batch, or create its files here when the child is so far behind
        that the pipe has no room for it; raise the child's error if it reported one."""
        if self.batch:
            batch, size, whole_files_only = self.batch, self.size, self.whole_files_only
            self.batch, self.size, self.whole_files_only = [], 0, True
            if whole_files_only and self.capacity and _pending(self.feed) + size > self.capacity:
                self.files.many((path, mode, data) for _, path, mode, data in batch)
            else:
                self._send(batch, size)
        if select.select([self.results], [], [], 0)[0]:  # a report, or the child is gone
            self._end()

    def _send(self, batch: list, size: int) -> None:
        entries = marshal.dumps([(operation, path, mode, len(data))
                                 for operation, path, mode, data in batch])
        buffers = [_FRAME.pack(len(entries), size), entries]
        buffers += [data for _, _, _, data in batch if len(data)]
        try:
            _send(self.feed, buffers)
        except BrokenPipeError:
            self._end()
            raise OSError("the process creating the imported files ended early") from None

    def close(self) -> None:
        """Wait until every file is created; raise the child's error, if any."""
        if self.pid:
            self.flush()
            self._end()

    def _end(self) -> None:
        """Close the feed and wait for the child; raise its error, if it had one."""
        if self.pid == 0:
            return
        os.close(self.feed)
        with os.fdopen(self.results, "rb") as results:
            report = results.read()
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if report:
            raise revive_error(marshal.loads(report))
        if status:
            raise OSError(f"the process creating the imported files ended with status {status}")

    def abort(self) -> None:
        """Stop the child at once (what it made is about to be removed)."""
        if self.pid == 0:
            return
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self.pid = 0
        os.close(self.feed)
        os.close(self.results)


def _pending(descriptor: int) -> int:
    """Bytes written to a pipe and not yet read."""
    import array
    import fcntl
    import termios

    count = array.array("i", [0])
    fcntl.ioctl(descriptor, termios.FIONREAD, count, True)
    return count[0]


def _send(descriptor: int, buffers: list) -> None:
    """Write all buffers with as few system calls as the system allows, views uncopied."""
    views = [memoryview(buffer).cast("B") for buffer in buffers]
    start = 0
    while start < len(views):
        written = os.writev(descriptor, views[start:start + 1024])
        while start < len(views) and written >= len(views[start]):
            written -= len(views[start])
            start += 1
        if written:
            views[start] = views[start][written:]


class _Child:
    """The file maker's side: apply batches until the feed ends; after a failure, only read
    (so the parent never blocks) and exit with status 1."""

    def __init__(self, files: _Files, parent: int) -> None:
        self.files, self.parent = files, parent
        self.current = -1  # the file an _OPEN left open

    def serve(self, feed: int, results: int) -> int:
        source = io.FileIO(feed, "rb")
        header, failed = bytearray(_FRAME.size), False
        while read_exact(source, header):
            entries, data = (bytearray(size) for size in _FRAME.unpack(header))
            if not (read_exact(source, entries) and read_exact(source, data)):
                return 1
            if failed or os.getppid() != self.parent:
                failed = True
                continue
            try:
                self.apply(marshal.loads(entries), memoryview(data))
            except Exception as error:  # reported to the parent, which raises it
                write_all(results, marshal.dumps(describe_error(error)))
                failed = True
        return 1 if failed else 0

    def apply(self, entries: list, data: memoryview) -> None:
        if all(entry[0] == _WHOLE for entry in entries):
            self.files.many(_contents(entries, data))
            return
        offset = 0
        for operation, path, mode, size in entries:
            if operation == _WHOLE:
                self.files.whole(path, mode, data[offset:offset + size])
            elif operation == _OPEN:
                self.current = self.files.open(path, mode)
            elif operation == _APPEND:
                write_all(self.current, data[offset:offset + size])
            else:
                os.close(self.current)
            offset += size


def _contents(entries: list, data: memoryview) -> Iterator[tuple[str, int, memoryview]]:
    """``(path, mode, content)`` of _WHOLE entries, their content cut from ``data``."""
    offset = 0
    for _, path, mode, size in entries:
        yield path, mode, data[offset:offset + size]
        offset += size


class _Forward:
    """A member's file opened in the file maker: writes go there."""

    def __init__(self, maker: _FileMaker) -> None:
        self.maker = maker

    def write(self, data: bytes) -> None:
        self.maker.add(_APPEND, data=data)

    def close(self) -> None:
        self.maker.add(_CLOSE)


class StagingSink:
    """Creates each member's file under the staging directory: new files only, no following
    of links, parents created inside the staging directory.

    Use it as a context manager: the files are complete when the block ends without an
    error. Past the first few hundred files they are created by a child process, when this
    process can fork safely (it runs no other threads).
    """

    def __init__(self, root: Path) -> None:
        self.files = _Files(str(root))
        self.maker: _FileMaker | None = None
        self.count = 0

    def __enter__(self) -> "StagingSink":
        return self

    def __exit__(self, kind, error, trace) -> None:
        maker, self.maker = self.maker, None
        if maker is not None and kind is None:
            maker.close()
        elif maker is not None:
            maker.abort()

    def _maker(self) -> _FileMaker | None:
        self.count += 1
        if self.maker is None and self.count == _DIRECT_FILES + 1 and can_fork():
            self.maker = _FileMaker(self.files)
        return self.maker

    def __call__(self, member: Member):
        maker = self._maker()
        if maker is None or member.size > _STREAM_HERE:
            # A large member is written here: through the pipe it would be copied twice more.
            descriptor = self.files.open(member.path, member.mode)
            return (_WriteBehind if member.size > _WRITE_BEHIND else _FileWriter)(descriptor)
        maker.add(_OPEN, member.path, member.mode)
        return _Forward(maker)

    def whole(self, member: Member, data) -> None:
        """Create the member's file with all of its content (``data`` must stay unchanged
        until the block ends)."""
        maker = self._maker()
        if maker is None:
            self.files.whole(member.path, member.mode, data)
        else:
            maker.add(_WHOLE, member.path, member.mode, data)
