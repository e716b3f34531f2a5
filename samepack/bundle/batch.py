"""Small files of a part packed in batches: each batch is read, hashed, screened for secrets and
turned into its run of tar bytes in one call, in worker processes when a part has many files,
so the per-file work of a large tree uses every core. Batches are written back in order, so the
tar stream is the same whichever process packed it."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import deque
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Callable

from samepack.bundle.manifest import Member
from samepack.bundle.secrets import SCAN_LIMIT
from samepack.bundle.tarblocks import member_header, padding

SMALL = SCAN_LIMIT  # files up to this size are read whole (and screened) in batches
BATCH_FILES = 256
BATCH_BYTES = 4 * 1024 * 1024
PARALLEL_FROM = 512  # fewer small files than this are packed in this process

Check = Callable[[str, bytes], "str | None"]
Item = tuple[str, str, int]  # (bundle path, file, mode)


def pack(items: list[Item], check: Check | None) -> tuple[list[bytes], list[Member],
                                                          list[tuple[str, str]]]:
    """Tar pieces of ``items`` (header, content, padding each, kept apart because the writer
    cuts chunks between pieces) with their manifest entries, and the (path, reason) of those
    ``check`` found to hold a secret (left out)."""
    pieces, members, dropped = [], [], []
    for path, file, mode in items:
        content = _read_whole(file)
        reason = check(path, content) if check is not None else None
        if reason:
            dropped.append((path, reason))
            continue
        size = len(content)
        pieces += (member_header(path, size, mode), content, padding(size))
        members.append(Member(path, size, mode, hashlib.sha256(content).hexdigest()))
    return pieces, members, dropped


def _read_whole(file: str) -> bytes:
    """A small file's bytes (plain descriptor calls: no file object per file)."""
    fd = os.open(file, os.O_RDONLY | os.O_CLOEXEC)
    try:
        pieces = [os.read(fd, os.fstat(fd).st_size + 1)]
        while pieces[-1]:
            pieces.append(os.read(fd, SMALL))
    finally:
        os.close(fd)
    return pieces[0] if len(pieces) == 2 else b"".join(pieces)


def process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """Worker processes for :func:`pack` (forked: they need nothing but this module)."""
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 2,
                               mp_context=multiprocessing.get_context("fork"))


class Batches:
    """Collects small files into batches, packs them (in ``executor`` when given) and hands
    the results to ``emit`` in order, keeping a bounded number in flight."""

    def __init__(self, check: Check | None, emit: Callable, executor: Executor | None) -> None:
        self.check, self.emit, self.executor = check, emit, executor
        self.items: list[Item] = []
        self.bytes = 0
        self.inflight: deque[Future] = deque()
        self.limit = 2 * (getattr(executor, "_max_workers", 1) or 1)

    def add(self, path: str, file: str, mode: int, size: int) -> None:
        self.items.append((path, os.fspath(file), mode))
        self.bytes += size
        if len(self.items) >= BATCH_FILES or self.bytes >= BATCH_BYTES:
            self._submit()

    def _submit(self) -> None:
        if not self.items:
            return
        items, self.items, self.bytes = self.items, [], 0
        if self.executor is None:
            self.emit(*pack(items, self.check))
            return
        self.inflight.append(self.executor.submit(pack, items, self.check))
        while len(self.inflight) > self.limit:
            self.emit(*self.inflight.popleft().result())

    def flush(self) -> None:
        """Pack and emit everything added so far."""
        self._submit()
        while self.inflight:
            self.emit(*self.inflight.popleft().result())

    def cancel(self) -> None:
        for future in self.inflight:
            future.cancel()
        self.inflight.clear()
