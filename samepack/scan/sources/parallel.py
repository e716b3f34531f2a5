"""Read many source files on every core: chunks of paths go to a process pool; small trees are
read in this process, where starting workers would cost more than it saves."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from samepack.scan.sources.facts import FileFacts
from samepack.scan.sources.python import read_facts

SERIAL_BELOW_BYTES = 1_000_000
CHUNKS_PER_WORKER = 8


def read_all(root: Path, paths: list[str], mode: str, total_bytes: int,
             prune: Callable[[FileFacts], FileFacts] | None = None) -> list[FileFacts]:
    """Facts for every path, in the order given; ``prune`` runs on each where it was read."""
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or total_bytes < SERIAL_BELOW_BYTES or len(paths) < 2 * workers:
        return _read_chunk(root, paths, mode, prune)
    from concurrent.futures import ProcessPoolExecutor  # small trees never pay for it

    chunks = _chunks(paths, workers * CHUNKS_PER_WORKER)
    # What every chunk shares (the pruner holds the project's module tree) goes to each worker
    # once, not with every chunk.
    with ProcessPoolExecutor(max_workers=workers, initializer=_set_shared,
                             initargs=(root, mode, prune)) as pool:
        return [facts for chunk in pool.map(_read_shared, chunks) for facts in chunk]


_shared: tuple = ()


def _set_shared(root: Path, mode: str, prune: Callable[[FileFacts], FileFacts] | None) -> None:
    global _shared
    _shared = (root, mode, prune)


def _read_shared(paths: list[str]) -> list[FileFacts]:
    root, mode, prune = _shared
    return _read_chunk(root, paths, mode, prune)


def _chunks(paths: list[str], count: int) -> list[list[str]]:
    size = max(1, -(-len(paths) // count))
    return [paths[i:i + size] for i in range(0, len(paths), size)]


def _read_chunk(root: Path, paths: list[str], mode: str,
                prune: Callable[[FileFacts], FileFacts] | None = None) -> list[FileFacts]:
    facts = [read_facts(root, path, mode) for path in paths]
    return [prune(f) for f in facts] if prune else facts
