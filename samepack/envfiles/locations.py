"""Where the locks live. A project's own ``requirements.txt`` is a declaration samepack reads and
never rewrites (without ``--force``): the pip lock then goes beside it, into :data:`BESIDE_LOCK`,
a file samepack owns. A project's own ``conda-lock.yml`` (written by conda-lock) is a lock whose
versions samepack keeps as preferences, and is not rewritten either: samepack's conda lock then
goes to :data:`BESIDE_CONDA_LOCK`. Every reader finds a lock through the record
(:func:`recorded_pip_lock`, :func:`recorded_conda_lock`), never by guessing a name."""

from __future__ import annotations

from pathlib import Path

from samepack.envfiles.atomic import is_generated

DEFAULT_LOCK = "requirements.txt"
BESIDE_LOCK = "requirements.lock"  # rye's name for a hashed requirements file; uv syncs it
PIP_LOCK_NAMES = (DEFAULT_LOCK, BESIDE_LOCK)


CONDA_LOCK = "conda-lock.yml"
BESIDE_CONDA_LOCK = "conda-lock.samepack.yml"  # conda-lock reads any name: conda-lock install FILE
CONDA_LOCK_NAMES = (CONDA_LOCK, BESIDE_CONDA_LOCK)


def _lock_name(root: Path, usual: str, beside: str, force: bool) -> str:
    """``usual`` when that file is samepack's (or absent, or ``--force`` replaces it), else
    ``beside``, next to the user's own."""
    path = root / usual
    if force or not path.is_file() or is_generated(path):
        return usual
    return beside


def pip_lock_name(root: Path, force: bool = False) -> str:
    """The file samepack writes its pip lock to: ``requirements.txt`` or ``requirements.lock``."""
    return _lock_name(root, DEFAULT_LOCK, BESIDE_LOCK, force)


def conda_lock_name(root: Path, force: bool = False) -> str:
    """The file samepack writes its conda lock to: ``conda-lock.yml`` or
    ``conda-lock.samepack.yml``."""
    return _lock_name(root, CONDA_LOCK, BESIDE_CONDA_LOCK, force)


def recorded_pip_lock(files: dict[str, str] | list[str]) -> str | None:
    """The pip lock among the files a lock record vouches for (None for a conda-only lock)."""
    for name in (BESIDE_LOCK, DEFAULT_LOCK):
        if name in files:
            return name
    return None


def recorded_conda_lock(files: dict[str, str] | list[str]) -> str | None:
    """The conda lock among the files a lock record vouches for (None for a pip-only lock)."""
    for name in (BESIDE_CONDA_LOCK, CONDA_LOCK):
        if name in files:
            return name
    return None
