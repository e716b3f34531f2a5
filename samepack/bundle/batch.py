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
import multiprocessing
import os
import stat
from collections import deque
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Callable

from samepack.bundle.children import die_with_parent
from samepack.bundle.secrets import SCAN_LIMIT
from samepack.bundle.tarblocks import member_header, padding

SMALL = SCAN_LIMIT  # files up to this size are read whole (and screened) in batches
BATCH_FILES = 256
BATCH_BYTES = 8 * 1024 * 1024  # a batch's file content (bounds each worker's memory)
PARALLEL_FROM = 512  # fewer files than this are packed in this process

# A content check: (bundle path, bytes, whether these exact bytes passed it before) -> reason.
Check = Callable[[str, bytes, bool], "str | None"]
Item = tuple[str, str, "int | None"]  # (bundle path, file, mode or None: from the file)
Entry = tuple[str, int, int, str]  # (bundle path, size, mode, sha256)
# A run of packed members (their tar bytes and entries), or the index of an item to stream.
Run = "tuple[bytes, list[Entry]] | int"

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


# Digests (raw sha256) of file contents that passed the check in an earlier export: set in a
# worker by the pool's initializer, which a forked worker receives without copying.
_passed_before: "set[bytes] | frozenset[bytes]" = frozenset()


def pack(items: list[Item], check: Check | None,
         passed_before: "set[bytes] | frozenset[bytes] | None" = None
         ) -> tuple[list, list[tuple[str, str]]]:
    """The runs of ``items`` in order, and the (path, reason) of those left out: links,
    special files, missing files, and those ``check`` found to hold a secret.
    ``passed_before`` (default: the worker's set) names contents that passed ``check`` before."""
    if passed_before is None:
        passed_before = _passed_before
    runs: list = []
    pieces: list[bytes] = []
    entries: list[Entry] = []
    dropped: list[tuple[str, str]] = []
    budget = BATCH_BYTES
    for index, (path, file, mode) in enumerate(items):
        try:
            descriptor = os.open(file, OPEN_FLAGS)
        except OSError as error:
            dropped.append((path, why_unreadable(error)))
            continue
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                dropped.append((path, "not a regular file"))
                continue
            if info.st_size > SMALL or (info.st_size > budget and entries):
                if entries:
                    runs.append((b"".join(pieces), entries))
                    pieces, entries = [], []
                runs.append(index)
                continue
            content = _read_all(descriptor, info.st_size)
        finally:
            os.close(descriptor)
        digest = hashlib.sha256(content).digest()
        if check is not None:
            reason = check(path, content, digest in passed_before)
            if reason:
                dropped.append((path, reason))
                continue
        size = len(content)
        budget -= size
        mode = exec_mode(info.st_mode) if mode is None else mode
        pieces += (member_header(path, size, mode), content, padding(size))
        entries.append((path, size, mode, digest.hex()))
    if entries:
        runs.append((b"".join(pieces), entries))
    return runs, dropped


def _read_all(descriptor: int, size: int) -> bytes:
    """A small file's bytes, with plain descriptor calls (no file object per file). A read
    that returns less than asked has met the end of a regular file, so a file that did not
    grow takes one read."""
    first = os.read(descriptor, size + 1)
    if len(first) <= size:
        return first
    pieces = [first]
    while pieces[-1]:
        pieces.append(os.read(descriptor, SMALL))
    return b"".join(pieces)


def _start_worker(parent: int, passed_before: "set[bytes] | frozenset[bytes]") -> None:
    global _passed_before
    die_with_parent(parent)
    _passed_before = passed_before


def process_pool(workers: int | None = None,
                 passed_before: "set[bytes] | frozenset[bytes]" = frozenset()
                 ) -> ProcessPoolExecutor:
    """Worker processes for :func:`pack` (forked: they need nothing but this module, and
    ``passed_before`` reaches them without being copied)."""
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 2,
                               mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_worker, initargs=(os.getpid(), passed_before))


class Batches:
    """Collects items into batches, packs them (in ``executor`` when given) and hands each
    batch's ``(items, runs, dropped)`` to ``emit`` in order, a bounded number in flight."""

    def __init__(self, check: Check | None, emit: Callable, executor: Executor | None,
                 passed_before: "set[bytes] | frozenset[bytes]" = frozenset()) -> None:
        self.check, self.emit, self.executor = check, emit, executor
        self.passed_before = passed_before
        self.items: list[Item] = []
        self.inflight: deque[tuple[list[Item], Future]] = deque()
        self.limit = 2 * (getattr(executor, "_max_workers", 1) or 1)

    def add(self, path: str, file: str, mode: int | None) -> None:
        self.items.append((path, file, mode))
        if len(self.items) >= BATCH_FILES:
            self._submit()

    def _submit(self) -> None:
        if not self.items:
            return
        items, self.items = self.items, []
        if self.executor is None:
            self.emit(items, *pack(items, self.check, self.passed_before))
            return
        self.inflight.append((items, self.executor.submit(pack, items, self.check)))
        while len(self.inflight) > self.limit:
            self._emit_oldest()

    def _emit_oldest(self) -> None:
        items, future = self.inflight.popleft()
        self.emit(items, *future.result())

    def flush(self) -> None:
        """Pack and emit everything added so far."""
        self._submit()
        while self.inflight:
            self._emit_oldest()

    def cancel(self) -> None:
        for _, future in self.inflight:
            future.cancel()
        self.inflight.clear()
