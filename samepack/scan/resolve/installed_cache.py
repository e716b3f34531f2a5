"""The installed-metadata index, kept between scans of the same environment.

Building it (``packages_distributions()`` reads every distribution's metadata, then the RECORD
of each candidate) costs more than parsing a mid-sized project, yet it only changes when the
environment does. The key is the interpreter and, for every ``sys.path`` entry, the names and
mtimes of the ``*.dist-info``/``*.egg-info`` it holds: installing, upgrading, reinstalling or
removing a distribution adds, renames or rewrites one of them. A missing, stale or unreadable
cache is simply rebuilt; failing to write it never fails a scan.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from samepack.paths import samepack_home

FORMAT = 2
METADATA_SUFFIXES = (".dist-info", ".egg-info")


def cache_path() -> Path:
    return samepack_home() / "cache" / "installed-index.json"


def environment_key() -> str:
    """Changes whenever the set of installed distributions can have changed: the state itself,
    compared whole (a digest would cost a scan the import of hashlib for nothing)."""
    entries = [[entry, _metadata_state(entry)] for entry in sys.path]
    return json.dumps([FORMAT, sys.executable, sys.version, entries])


def _metadata_state(entry: str) -> list | int | None:
    """What metadata discovery sees in one ``sys.path`` entry: the name and mtime of each
    ``*.dist-info``/``*.egg-info`` in a directory (not the directory's own mtime, which any
    file written beside them changes, e.g. in the working directory), or a file's mtime."""
    try:
        with os.scandir(entry or ".") as scan:
            return sorted([item.name, item.stat().st_mtime_ns] for item in scan
                          if item.name.endswith(METADATA_SUFFIXES))
    except NotADirectoryError:
        return _mtime_ns(entry)
    except OSError:
        return None


def _mtime_ns(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def load(key: str) -> dict | None:
    """The cached index for ``key``: {"top": ..., "modules": ...}, or None."""
    try:
        data = json.loads(cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    if not isinstance(data.get("top"), dict) or not isinstance(data.get("modules"), dict):
        return None
    return data


def save(key: str, top: dict[str, list[str]], modules: dict[str, dict[str, bool]]) -> None:
    """Write atomically (temp file beside the target, then rename); errors are ignored."""
    target = cache_path()
    text = json.dumps({"key": key, "top": top, "modules": modules}, sort_keys=True)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # only when the index changed

        handle, temp = tempfile.mkstemp(prefix=".installed-index.", dir=target.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temp, target)
        except BaseException:
            os.unlink(temp)
            raise
    except OSError:
        pass
