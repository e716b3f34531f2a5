"""Find the files of a project worth reading, skipping what is not the project's own code:
virtualenvs, conda environments, caches, build output, VCS data and whatever ``.gitignore`` excludes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    "node_modules", "build", "dist", ".tox", ".nox", ".eggs", ".ipynb_checkpoints",
    "site-packages", "dist-packages", ".venv", "venv", ".direnv",
})
SOURCE_SUFFIXES = (".py", ".ipynb")
# Files searched for launch commands (torchrun, accelerate launch) by the hardware detector.
SCRIPT_NAMES = ("Makefile", "Dockerfile", "Procfile")
SCRIPT_SUFFIXES = (".sh", ".bash", ".yaml", ".yml")


@dataclass
class ProjectFiles:
    """Relative POSIX paths of the files to read, sorted; ``source_bytes`` sizes the parse."""

    sources: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    source_bytes: int = 0


@dataclass(frozen=True)
class _Ignore:
    base: str  # directory of the .gitignore, relative to the root ("" for the root)
    spec: Any  # pathspec.GitIgnoreSpec

    def matches(self, rel: str, is_dir: bool) -> bool:
        if self.base:
            if not rel.startswith(self.base + "/"):
                return False
            rel = rel[len(self.base) + 1:]
        return self.spec.match_file(rel + "/" if is_dir else rel)


def _is_environment(path: str, names: set[str]) -> bool:
    """A virtualenv (pyvenv.cfg) or a conda environment (conda-meta/)."""
    return "pyvenv.cfg" in names or ("conda-meta" in names and os.path.isdir(os.path.join(path, "conda-meta")))


def _read_gitignore(directory: str, base: str) -> _Ignore | None:
    try:
        with open(os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    import pathspec  # only trees with a .gitignore pay for it

    return _Ignore(base, pathspec.GitIgnoreSpec.from_lines(lines))


def collect_files(root: Path) -> ProjectFiles:
    """Walk ``root`` (not following directory symlinks) and return what the detectors read."""
    found = ProjectFiles()
    _walk(str(root), "", [], found)
    found.sources.sort()
    found.scripts.sort()
    return found


def _walk(directory: str, rel_dir: str, ignores: list[_Ignore], found: ProjectFiles) -> None:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    names = {entry.name for entry in entries}
    if rel_dir and _is_environment(directory, names):
        return
    if ".gitignore" in names:
        ignore = _read_gitignore(directory, rel_dir)
        ignores = ignores + [ignore] if ignore else ignores
    for entry in entries:
        rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
        is_dir = entry.is_dir(follow_symlinks=False)
        if is_dir and (entry.name in SKIP_DIRS or entry.name.endswith(".egg-info")):
            continue
        if ignores and any(ignore.matches(rel, is_dir) for ignore in ignores):
            continue
        if is_dir:
            _walk(entry.path, rel, ignores, found)
        elif entry.is_symlink() or entry.is_file(follow_symlinks=False):
            _add_file(entry, rel, found)  # never a FIFO or device: reading one would block


def _add_file(entry: os.DirEntry, rel: str, found: ProjectFiles) -> None:
    name = entry.name
    if name.endswith(SOURCE_SUFFIXES):
        found.sources.append(rel)
        try:
            found.source_bytes += entry.stat().st_size
        except OSError:
            pass  # a dangling link: reading it later reports the problem
    elif name in SCRIPT_NAMES or name.endswith(SCRIPT_SUFFIXES):
        found.scripts.append(rel)
