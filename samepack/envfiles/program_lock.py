"""Keeping the program's ``environment.lock`` on the hashed file environments are created
from. When a user's ``requirements.txt`` stays a declaration and the lock goes to
``requirements.lock``, a ``samepack.yaml`` that names ``requirements.txt`` as its lock is
pointed at the lock; only that one value changes, the rest of the file is kept byte for byte."""

from __future__ import annotations

import re
from pathlib import Path

from samepack.envfiles.locations import PIP_LOCK_NAMES

PROGRAM_FILES = ("samepack.yaml", "samepack.yml")
_BLOCK = re.compile(r"^environment:[ \t]*(?:#.*)?$", re.MULTILINE)
_LOCK = re.compile(r"^(?P<lead>[ \t]+lock:[ \t]*)(?P<quote>[\"']?)(?P<value>[^\"'#\s]+)(?P=quote)",
                   re.MULTILINE)


def program_lock_update(root: Path, pip_lock: str | None):
    """The planned edit of the program file, or None when it already points right (or names
    a lock of its own choosing, or there is no program file)."""
    from samepack.envfiles.plan import PlannedFile

    if pip_lock is None:
        return None
    for name in PROGRAM_FILES:
        path = root / name
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            updated = pointed_at(text, pip_lock)
            return PlannedFile(name, updated, "merge") if updated != text else None
    return None


def pointed_at(text: str, pip_lock: str) -> str:
    """``text`` with ``environment.lock`` set to ``pip_lock`` when it names another of
    samepack's pip lock names; unchanged otherwise."""
    block = _BLOCK.search(text)
    if not block:
        return text
    end = re.compile(r"^\S", re.MULTILINE).search(text, block.end() + 1)
    body_end = end.start() if end else len(text)
    lock = _LOCK.search(text, block.end(), body_end)
    if not lock or lock.group("value") == pip_lock or lock.group("value") not in PIP_LOCK_NAMES:
        return text
    start, stop = lock.span("value")
    return text[:start] + pip_lock + text[stop:]
