"""Files of a part packed in batches: each batch is opened, checked (regular file, no link),
read, hashed, screened for secrets and turned into one run of tar bytes in one call, in worker
processes when a part has many files, so the per-file work of a large tree uses every core.
Batches are written back in order, so the tar stream is the same whichever process packed it.

A file too big for a batch (over ``SMALL``, or past the batch's byte budget) is not read by the
packer: its place is handed back and the writer streams it itself.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import pickle
import stat
import struct
from contextlib import contextmanager
from typing import Callable, Iterator, NamedTuple

from samepack.bundle.system.children import (describe_error, fork_child, read_exact, revive_error,
                                             stop_child, write_all, write_pieces)
from samepack.bundle.parts.secrets import SCAN_LIMIT
from samepack.bundle.format.tarblocks import BLOCK, PADDING, member_header
from samepack.errors import ResourceError

SMALL = SCAN_LIMIT  # files up to this size are read whole (and screened) in batches
BATCH_FILES = 256
BATCH_BYTES = 8 * 1024 * 1024  # a batch's file content (bounds each worker's memory)
PARALLEL_FROM = 512  # fewer files than this are packed in this process

# A content check: (bundle path, bytes, whether these exact bytes passed it before) -> reason.
Check = Callable[[str, bytes, bool], "str | None"]
Item = tuple[str, str, "int | None"]  # (bundle path, file, mode or None: from the file)
Entry = tuple[str, int, int, str]  # (bundle path, size, mode, sha256)
PassedBefore = "set[bytes] | frozenset[bytes]"  # digests of contents that passed the check
# A run of packed members (their tar bytes: the pieces in order, or still in a worker's pipe;
# and their entries), or the index of an item to stream.
Run = "tuple[list[bytes] | Piped, list[Entry]] | int"


class Piped(NamedTuple):
    """``length`` bytes of a run's tar still in the pipe of worker ``pid``: the writer reads
    them straight into its chunk (no copy in between), in order, before the next batch."""

    pipe: io.FileIO
    length: int
    pid: int

    def short(self) -> ResourceError:
        return ResourceError(f"a packing worker (pid {self.pid}) ended in the middle of a "
                             "batch", hint="it was killed (out of memory?); export again")

OPEN_FLAGS = os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def exec_mode(st_mode: int) -> int:
    """0755 for files anyone may execute, else 0644 (the only modes a bundle holds)."""
    return 0o755 if st_mode & 0o111 else 0o644


def why_unreadable(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "symbolic link (bundles hold regular files only)"
    if error.errno == errno.ENOENT:
        return "missing"
    return f"unreadable ({error.strerror})"


def pack(items: list[Item], check: Check | None, passed_before: PassedBefore = frozenset()
         ) -> tuple[list, list[tuple[str, str]]]:
    """The runs of ``items`` in order, and the (path, reason) of those left out: links,
    special files, missing files, and those ``check`` found to hold a secret.
    ``passed_before``: digests of contents that passed ``check`` in an earlier export.
    A run's tar bytes are the list of its pieces (headers, contents, paddings), not joined:
    a worker writes them to its pipe as they are."""
    runs: list = []
    pieces: list[bytes] = []
    entries: list[Entry] = []
    dropped: list[tuple[str, str]] = []
    budget = BATCH_BYTES
    folders = _Folders()
    # Looked up once: this loop runs once per file of the tree.
    fstat, read, close, is_regular, sha256 = os.fstat, os.read, os.close, stat.S_ISREG, hashlib.sha256
    try:
        for index, (path, file, mode) in enumerate(items):
            try:
                descriptor = folders.open(file)
            except OSError as error:
                dropped.append((path, why_unreadable(error)))
                continue
            try:
                info = fstat(descriptor)
                size = info.st_size
                if not is_regular(info.st_mode):
                    dropped.append((path, "not a regular file"))
                    continue
                if size > SMALL or (size > budget and entries):
                    if entries:
                        runs.append((pieces, entries))
                        pieces, entries = [], []
                    runs.append(index)
                    continue
                # One read: less than asked means the end of a file that did not grow.
                content = read(descriptor, size + 1)
                if len(content) > size:
                    content = _read_rest(descriptor, content)
            finally:
                close(descriptor)
            digest = sha256(content).digest()
            if check is not None:
                reason = check(path, content, digest in passed_before)
                if reason:
                    dropped.append((path, reason))
                    continue
            size = len(content)
            budget -= size
            if mode is None:
                mode = exec_mode(info.st_mode)
            pieces += (member_header(path, size, mode), content, PADDING[size % BLOCK])
            entries.append((path, size, mode, digest.hex()))
    finally:
        folders.close()
    if entries:
        runs.append((pieces, entries))
    return runs, dropped


class _Folders:
    """Opens files by name relative to their folder, kept open while the files of one folder
    follow each other (as sorted paths do): the kernel then resolves one name, not the whole
    path, per file. The link check is the same: O_NOFOLLOW applies to the last name."""

    USABLE = os.open in os.supports_dir_fd

    def __init__(self) -> None:
        self.path: str | None = None
        self.descriptor: int | None = None

    def open(self, file: str) -> int:
        folder, _, name = file.rpartition("/")
        if not (self.USABLE and folder and name):
            return os.open(file, OPEN_FLAGS)
        if folder != self.path:
            self.close()
            try:
                self.descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            except OSError:
                return os.open(file, OPEN_FLAGS)  # the same error as the file itself gives
            self.path = folder
        return os.open(name, OPEN_FLAGS, dir_fd=self.descriptor)

    def close(self) -> None:
        if self.descriptor is not None:
            os.close(self.descriptor)
        self.path = self.descriptor = None


def _read_rest(descriptor: int, first: bytes) -> bytes:
    """The rest of a small file that grew while it was read (after ``first``)."""
    pieces = [first]
    while pieces[-1]:
        pieces.append(os.read(descriptor, SMALL))
    return b"".join(pieces)


class ForkedPackers:
    """Worker processes forked once the batches are known, so each inherits them (and the
    digests that passed before) instead of receiving them: worker ``k`` of ``n`` packs batches
    ``k``, ``k + n``, ... and writes each result down its own pipe as a small pickled record
    followed by the raw tar bytes. Reading the pipes in turn gives the results in batch order;
    a full pipe holds a worker back, which bounds memory. Workers die with this process."""

    def __init__(self, batches: list[list[Item]], check: Check | None,
                 passed_before: PassedBefore, workers: int) -> None:
        self.count = len(batches)
        self.workers: list[tuple[int, io.FileIO]] = []
        workers = min(workers, self.count)
        try:
            for index in range(workers):
                mine = batches[index::workers]
                read_end, write_end = os.pipe()
                _widen(write_end)
                pid = fork_child(lambda: _serve(mine, check, passed_before, write_end))
                os.close(write_end)
                self.workers.append((pid, io.FileIO(read_end, "rb")))
        except BaseException:
            self.close()
            raise

    def results(self) -> Iterator[tuple[list, list[tuple[str, str]]]]:
        """``(runs, dropped)`` of every batch, in order."""
        for index in range(self.count):
            yield self._receive(*self.workers[index % len(self.workers)])

    def _receive(self, pid: int, pipe: io.FileIO) -> tuple[list, list[tuple[str, str]]]:
        """The next batch's record; its tar bytes stay in ``pipe`` (:class:`Piped`)."""
        head = bytearray(_HEAD.size)
        if not read_exact(pipe, head):
            raise ResourceError(f"a packing worker (pid {pid}) ended before its work was done",
                                hint="it was killed (out of memory?); export again")
        record_size, _ = _HEAD.unpack(head)
        record = bytearray(record_size)
        if not read_exact(pipe, record):
            raise Piped(pipe, 0, pid).short()
        shape, dropped = pickle.loads(record)
        if shape == "error":
            raise revive_error(dropped)
        return [run if isinstance(run, int) else (Piped(pipe, run[0], pid), run[1])
                for run in shape], dropped

    def close(self) -> None:
        """Stop the workers (finished or not) and reap them."""
        for pid, pipe in self.workers:
            pipe.close()
            stop_child(pid)
        self.workers = []


_HEAD = struct.Struct("<QQ")  # sizes of the pickled record and of the tar bytes that follow


def _widen(pipe: int) -> None:
    """A pipe big enough for a whole batch, so a worker goes on while its result waits."""
    try:
        import fcntl

        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, OSError, AttributeError):
        pass  # the default size only makes workers wait more


def _serve(batches: list[list[Item]], check: Check | None, passed_before: PassedBefore,
           pipe: int) -> int:
    """In a worker: pack ``batches`` in order, writing each result to ``pipe``: the record,
    then the runs' pieces with gathering writes (never joined into one copy here)."""
    for items in batches:
        try:
            runs, dropped = pack(items, check, passed_before)
        except Exception as error:  # reported to the parent, which raises it
            record = pickle.dumps(("error", describe_error(error)))
            write_all(pipe, _HEAD.pack(len(record), 0) + record)
            return 1
        shape = [run if isinstance(run, int) else (sum(map(len, run[0])), run[1])
                 for run in runs]
        pieces = [piece for run in runs if not isinstance(run, int) for piece in run[0]]
        record = pickle.dumps((shape, dropped), protocol=pickle.HIGHEST_PROTOCOL)
        write_pieces(pipe, [_HEAD.pack(len(record), sum(map(len, pieces))), record, *pieces])
    return 0


@contextmanager
def packed_batches(batches: list[list[Item]], check: Check | None,
                   passed_before: PassedBefore, workers: int
                   ) -> Iterator[Iterator[tuple[list, list[tuple[str, str]]]]]:
    """``(runs, dropped)`` of each batch in order: packed by ``workers`` forked processes, or
    in this one (``workers`` below 2), one batch at a time as they are asked for."""
    if workers < 2:
        yield (pack(items, check, passed_before) for items in batches)
        return
    packers = ForkedPackers(batches, check, passed_before, workers)
    try:
        yield packers.results()
    finally:
        packers.close()
