"""Where the pip lock lives. A project's own ``requirements.txt`` is a declaration samepack
reads and never rewrites (without ``--force``): the lock then goes beside it, into
:data:`BESIDE_LOCK`, a file samepack owns. Every reader finds the lock through the record
(:func:`recorded_pip_lock`), never by guessing a name."""

from __future__ import annotations

from pathlib import Path

from samepack.envfiles.atomic import is_generated

DEFAULT_LOCK = "requirements.txt"
BESIDE_LOCK = "requirements.lock"  # rye's name for a hashed requirements file; uv syncs it
PIP_LOCK_NAMES = (DEFAULT_LOCK, BESIDE_LOCK)


def pip_lock_name(root: Path, force: bool = False) -> str:
    """The file samepack writes its pip lock to: ``requirements.txt`` when it is samepack's
    (or absent, or ``--force`` replaces it), else ``requirements.lock`` beside the user's."""
    path = root / DEFAULT_LOCK
    if force or not path.is_file() or is_generated(path):
        return DEFAULT_LOCK
    return BESIDE_LOCK


def recorded_pip_lock(files: dict[str, str] | list[str]) -> str | None:
    """The pip lock among the files a lock record vouches for (None for a conda-only lock)."""
    for name in (BESIDE_LOCK, DEFAULT_LOCK):
        if name in files:
            return name
    return None
