"""The installed-metadata index, kept between scans of the same environment.

Building it (``packages_distributions()`` reads every distribution's metadata, then the RECORD
of each candidate) costs more than parsing a mid-sized project, yet it only changes when the
environment does. The key is the interpreter and every ``sys.path`` entry with its mtime:
installing, upgrading or removing a distribution adds or renames a ``*.dist-info`` directory,
which changes the mtime of the directory holding it. A missing, stale or unreadable cache is
simply rebuilt; failing to write it never fails a scan.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

from samepack.paths import samepack_home

FORMAT = 1


def cache_path() -> Path:
    return samepack_home() / "cache" / "installed-index.json"


def environment_key() -> str:
    """Changes whenever the set of installed distributions can have changed."""
    entries = [[entry, _mtime_ns(entry)] for entry in sys.path]
    material = json.dumps([FORMAT, sys.executable, sys.version, entries])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _mtime_ns(entry: str) -> int | None:
    try:
        return os.stat(entry or ".").st_mtime_ns
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
