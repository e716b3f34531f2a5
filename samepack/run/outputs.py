"""Output files: what a run creates or changes in its working directory, found by comparing a
listing taken before the first step with one taken after the last (size and modification time,
then sha256 of what differs). Environment, cache and version-control folders, tracking stores
and samepack's own files are not looked at. Real projects write their results where they are
(``model.pkl``, ``outputs/``, ``plots/``): no change to the code is needed for them to be
recorded and compared."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samepack.history.files import TRACKING_DIRS, TRACKING_FILES, sha256_file

# Folders whose content is never a run's result: environments, caches, version control, and the
# stores of tracking tools (what those hold reaches the record through the tracking readers).
NOT_OUTPUTS = {".git", ".hg", ".svn", ".venv", "venv", "__pycache__", ".mypy_cache",
               ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", "node_modules", ".tox",
               ".nox", ".eggs", ".samepack", ".cache", ".virtual_documents", *TRACKING_DIRS}
NOT_OUTPUT_FILES = {".DS_Store", *TRACKING_FILES}
MAX_FILES = 100_000  # a working directory beyond this is not listed (a warning says so)


@dataclass(frozen=True)
class Listing:
    """``{relative POSIX path: (size, mtime_ns)}`` of a working directory at one moment."""

    files: dict[str, tuple[int, int]]
    complete: bool = True


def list_workdir(root: Path) -> Listing:
    files: dict[str, tuple[int, int]] = {}
    for directory, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in NOT_OUTPUTS and not d.endswith(".egg-info")
                   and not (Path(directory, d) / "pyvenv.cfg").is_file()]
        base = os.path.relpath(directory, root)
        prefix = "" if base == "." else base.replace(os.sep, "/") + "/"
        for name in names:
            if name in NOT_OUTPUT_FILES:
                continue
            try:
                facts = os.lstat(os.path.join(directory, name))
            except OSError:
                continue
            if not stat.S_ISREG(facts.st_mode):  # links and special files are not outputs
                continue
            files[prefix + name] = (facts.st_size, facts.st_mtime_ns)
            if len(files) >= MAX_FILES:
                return Listing(files, complete=False)
    return Listing(files)


def changed_files(root: Path, before: Listing, after: Listing) -> list[dict[str, Any]]:
    """``[{path, size, sha256, kind: "output"}]`` of files new or changed since ``before``."""
    found = []
    for path, facts in sorted(after.files.items()):
        if before.files.get(path) == facts:
            continue
        try:
            digest = sha256_file(root / path)
        except OSError:  # gone again before it could be read
            continue
        found.append({"path": path, "size": facts[0], "sha256": digest, "kind": "output"})
    return found
