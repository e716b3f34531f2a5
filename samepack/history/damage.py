"""A damaged run history as one-line errors: what SQLite says about the history file, and a
run's row holding what samepack never writes there, each become a :class:`SamepackError`
naming the file (and the run and column) and the fix.

Nothing here changes the file: samepack never rewrites, truncates or repairs a history; the
fixes are the user's to make (move the file aside, restore it, reset one column).
"""

from __future__ import annotations

import functools
import os
import sqlite3
from pathlib import Path
from typing import Any, Callable, TypeVar

from samepack.errors import InputError, ResourceError, SamepackError
from samepack.settings import seconds_setting

BUSY_TIMEOUT_ENV = "SAMEPACK_HISTORY_BUSY_TIMEOUT"
BUSY_TIMEOUT_S = 30.0

# SQLite's primary result codes (the low byte of ``sqlite_errorcode``).
_BUSY, _LOCKED, _NOMEM, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = (
    5, 6, 7, 8, 10, 11, 13, 14, 26)
_PERM = 3
_READONLY_DIRECTORY = _READONLY | (6 << 8)

F = TypeVar("F", bound=Callable[..., Any])


def busy_timeout_s() -> float:
    """How long a command waits for another process's write to the history to end."""
    return seconds_setting(BUSY_TIMEOUT_ENV, BUSY_TIMEOUT_S)


def move_aside(path: Path) -> str:
    return f"move it aside (mv {path} {path}.damaged): samepack starts a new history there"


class DamagedRunError(InputError):
    """A run's row holds what samepack never writes there (changed by hand or by another
    program): the run cannot be read, the other runs can."""

    def __init__(self, path: Path, run_id: str | None, column: str, problem: str, fix: str,
                 rowid: int | None = None) -> None:
        """``rowid``: the run's row in ``runs``, naming a run whose id is not text."""
        run = f"run {run_id}" if rowid is None else f"the run at rowid {rowid} of runs"
        super().__init__(f"{path}: {run}: {column} {problem}",
                         f"it was changed outside samepack: restore the history from a backup, "
                         f"or {fix}")
        self.path, self.run_id, self.column, self.rowid = path, run_id, column, rowid
        self.fix = fix

    def left_out(self) -> str:
        """The warning of a listing that goes on without this run."""
        if self.rowid is not None:  # no id samepack runs show could take
            return f"{self.message}: left out ({self.fix})"
        return (f"{self.message}: left out (samepack runs show {self.run_id[:8]} says how to "
                f"fix it)")


def reset_column(path: Path, run_id: str, column: str, empty: str) -> str:
    return f"reset it: sqlite3 {path} \"UPDATE runs SET {column} = '{empty}' WHERE id = '{run_id}'\""


def delete_point(path: Path, run_id: str, seq: int) -> str:
    return (f"delete that point: sqlite3 {path} \"DELETE FROM metrics WHERE run_id = '{run_id}' "
            f"AND seq = {seq}\"")


def database_error(path: Path, error: sqlite3.Error) -> SamepackError | None:
    """The one-line error for what SQLite raised on the history at ``path``; None for sqlite3
    used wrongly (a bug, left as it is)."""
    code = getattr(error, "sqlite_errorcode", None)
    text = str(error)
    if code is None:  # raised by Python's sqlite3 itself: a text value that is not UTF-8
        if not isinstance(error, sqlite3.OperationalError):
            return None
        return InputError(f"{path}: the run history holds a value that cannot be read ({text})",
                          f"restore the history from a backup, or {move_aside(path)}")
    primary = code & 0xFF
    if primary in (_BUSY, _LOCKED):
        return ResourceError(f"{path}: the run history stayed locked by another process for "
                             f"{busy_timeout_s():g} s ({text})",
                             f"let the other samepack command finish (or stop it) and try again; "
                             f"{BUSY_TIMEOUT_ENV} sets the seconds to wait")
    if primary in (_READONLY, _PERM) or (primary == _CANTOPEN and path.exists()
                                         and not os.access(path.parent, os.W_OK)):
        return _read_only(path, code, text)
    if primary == _CANTOPEN:
        if path.is_dir():
            return InputError(f"{path}: the run history is a folder, not a file", move_aside(path))
        return InputError(f"{path}: the run history cannot be opened ({text})",
                          f"check that {path.parent} is a folder you can write, or set "
                          f"SAMEPACK_HOME to one")
    if primary in (_CORRUPT, _NOTADB):
        return InputError(f"{path}: the run history is damaged ({text})", move_aside(path))
    if primary == _FULL:
        return ResourceError(f"{path}: the disk holding the run history is full ({text})",
                             "free some space and try again")
    if primary == _NOMEM:
        return ResourceError(f"{path}: out of memory reading the run history ({text})",
                             "close other programs and try again")
    if primary == _IOERR:
        return ResourceError(f"{path}: the run history could not be read or written ({text})",
                             f"check the disk; if the file itself is damaged, {move_aside(path)}")
    return InputError(f"{path}: the run history is not as samepack writes it ({text})",
                      move_aside(path))


def _read_only(path: Path, code: int, text: str) -> InputError:
    if code == _READONLY_DIRECTORY or not os.access(path.parent, os.W_OK):
        return InputError(f"{path}: the run history's folder is read-only ({text}; SQLite keeps "
                          f"{path.name}-wal and -shm beside it)",
                          f"make {path.parent} writable, or set SAMEPACK_HOME to a folder you "
                          f"can write")
    return InputError(f"{path}: the run history is read-only ({text})",
                      f"make it writable (chmod u+w {path}), or set SAMEPACK_HOME to a folder "
                      f"you can write")


def translated(method: F) -> F:
    """``method`` of an object with a ``path`` (the history's), its sqlite3 errors raised as
    :func:`database_error`'s (the cause kept: ``--debug`` shows it)."""

    @functools.wraps(method)
    def guarded(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as error:
            domain = database_error(self.path, error)
            if domain is None:
                raise
            raise domain from error

    return guarded  # type: ignore[return-value]
