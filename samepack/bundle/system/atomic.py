"""Atomic outputs: write beside the target under a temp name, rename into place when complete.

Temp files are named ``.<target>.samepack-tmp-<pid>-<token>``; a later run removes those whose
process is gone, so a killed export leaves nothing that outlives the next one.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from samepack.errors import ConflictError, InputError

_MARK = ".samepack-tmp-"


def temp_path(target: Path, suffix: str = "") -> Path:
    """A fresh temp path beside ``target`` that names this process."""
    return target.with_name(f".{target.name}{_MARK}{os.getpid()}-{os.urandom(4).hex()}{suffix}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temps(target: Path) -> list[Path]:
    """Remove temp files beside ``target`` left by processes that no longer run."""
    removed = []
    prefix = f".{target.name}{_MARK}"
    if not target.parent.is_dir():
        return removed
    for candidate in target.parent.iterdir():
        if not candidate.name.startswith(prefix):
            continue
        pid_text = candidate.name[len(prefix):].split("-", 1)[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and not pid_alive(int(pid_text)):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def check_overwrite(target: Path, force: bool) -> None:
    """Refuse, before any work, an output whose folder is missing or not writable, or that
    exists already (unless ``force``)."""
    folder = target.parent
    if not folder.is_dir():
        raise InputError(f"{folder}: no such directory for {target.name}",
                         hint="create it first, or give another path with -o")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{folder}: not writable, so {target.name} cannot be written there",
                         hint="give a path in a folder you can write to with -o")
    if target.exists() and not force:
        raise ConflictError(f"{target} exists", hint="pass --force to overwrite it, or choose "
                                                     "another name with -o")


@contextmanager
def atomic_output(target: Path, force: bool = False) -> Iterator[BinaryIO]:
    """A binary file that becomes ``target`` only if the block completes."""
    check_overwrite(target, force)
    clean_stale_temps(target)
    temp = temp_path(target)
    try:
        with open(temp, "xb") as handle:
            yield handle
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
