"""Records of checks already passed, kept under ``$SAMEPACK_HOME/cache``.

A record is the sha256 of exactly what was checked (a file's bytes, a set of rendered
manifests with the versions they were checked against), so a hit means the same bytes passed
the same check before and the check need not run again; any change gives another digest and the
check runs. Each set is one append-only file of 32-byte digests: concurrent writers only append
whole records, and a torn or unreadable file is read as empty (the checks simply run).

``SAMEPACK_CACHE=off`` turns every cache off (each check runs every time).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Iterable

from samepack.bundle.system.children import write_all
from samepack.paths import samepack_home

RECORD = 32
MAX_RECORDS = 1 << 20  # 32 MiB: past this a set starts over with what is being added


def cache_enabled() -> bool:
    return os.environ.get("SAMEPACK_CACHE", "").strip().lower() not in ("off", "0", "no", "false")


def module_fingerprint(name: str) -> str | None:
    """Where the installed module ``name`` lies and when it was installed, without importing
    it (part of a record whose check that module does), or None if it is not installed."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    try:
        return f"{spec.origin}:{os.stat(spec.origin).st_mtime_ns}"
    except OSError:
        return None


class DigestSet:
    """A persistent set of sha256 digests (32 raw bytes each)."""

    def __init__(self, path: Path | None, digests: set[bytes] | None = None) -> None:
        self.path = path
        self.digests: set[bytes] = digests or set()

    @classmethod
    def load(cls, name: str) -> "DigestSet":
        """The set called ``name``; empty (and never saved) when caching is off."""
        if not cache_enabled():
            return cls(None)
        path = samepack_home() / "cache" / name
        try:
            raw = path.read_bytes()
        except OSError:
            return cls(path)
        whole = len(raw) - len(raw) % RECORD
        return cls(path, {raw[at:at + RECORD] for at in range(0, whole, RECORD)})

    def __contains__(self, digest: bytes) -> bool:
        return digest in self.digests

    def __len__(self) -> int:
        return len(self.digests)

    def add(self, digests: Iterable[bytes]) -> None:
        """Remember ``digests`` (best effort: a cache that cannot be written is no error)."""
        new = {digest for digest in digests if len(digest) == RECORD} - self.digests
        if not new or self.path is None:
            return
        self.digests |= new
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC,
                                 0o600)
            try:
                size = os.fstat(descriptor).st_size
                if len(self.digests) > MAX_RECORDS:
                    os.ftruncate(descriptor, 0)  # too big: start over with the new records
                elif size % RECORD:
                    # A torn tail would shift every record appended after it: rewrite.
                    os.ftruncate(descriptor, 0)
                    new = self.digests
                write_all(descriptor, b"".join(sorted(new)))
            finally:
                os.close(descriptor)
        except OSError:
            pass
