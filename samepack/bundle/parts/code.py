"""Which files of a project form the bundle's ``code/`` part: the git-tracked files when the
project is in git, else every file not ignored (``.gitignore`` at the project root and the usual
environment and cache directories). Links and special files are left out.

What runs made is not code: files the run history records as a run's outputs (unless git
tracks them), the stores of tracking tools (``mlruns/``, ``mlflow.db``) and the folders Hydra
makes for each run (they hold ``.hydra/``). They travel as the recorded outputs of the runs."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from samepack.bundle.parts.secrets import secret_by_name
from samepack.history.files import TRACKING_DIRS, TRACKING_FILES

if TYPE_CHECKING:
    import pathspec

SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "__pycache__", ".mypy_cache",
             ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", "node_modules", ".tox",
             ".samepack", ".nox", ".eggs"}


@dataclass
class GitInfo:
    commit: str
    commit_time: int
    dirty: bool


@dataclass
class CodeFiles:
    """Project-relative POSIX paths to include, and the ones left out with the reason."""

    paths: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    git: GitInfo | None = None


def _git(project: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(project), *args], capture_output=True,
                              text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def git_info(project: Path) -> GitInfo | None:
    """HEAD's commit and time when ``project`` lies in a git work tree with commits."""
    head = _git(project, "log", "-1", "--format=%H %ct")
    if not head or not head.strip():
        return None
    commit, _, when = head.strip().partition(" ")
    status = _git(project, "status", "--porcelain", "--untracked-files=no", "--", ".")
    return GitInfo(commit, int(when), bool(status and status.strip()))


def _git_files(project: Path) -> list[str] | None:
    listing = _git(project, "ls-files", "-z", "--cached", "--", ".")
    if listing is None:
        return None
    return sorted({path for path in listing.split("\0") if path})


def _ignore_spec(project: Path) -> "pathspec.PathSpec | None":
    ignore = project / ".gitignore"
    lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines() if ignore.is_file() else []
    if not lines:
        return None
    import pathspec  # only a project with a .gitignore pays for importing it

    return pathspec.GitIgnoreSpec.from_lines(lines)


def walk_files(root: Path, spec: "pathspec.PathSpec | None" = None,
               skip: set[str] = SKIP_DIRS) -> list[str]:
    """Every path under ``root`` (POSIX, relative) not in a skipped or ignored directory."""
    found: list[str] = []
    top = os.fspath(root)
    start = len(os.path.join(top, ""))
    for directory, dirs, files in os.walk(top):
        # os.walk yields os.path.join(top, ...): the relative folder is what follows top.
        relative = directory[start:].replace(os.sep, "/") if os.sep != "/" else directory[start:]
        base = relative + "/" if relative else ""
        dirs[:] = sorted(d for d in dirs if d not in skip and not (skip and d.endswith(".egg-info"))
                         and not (spec and spec.match_file(base + d + "/")))
        if spec is None:
            found += [base + name for name in files] if base else files
        else:
            found += [base + name for name in files if not spec.match_file(base + name)]
    found.sort()
    return found


# Why a file that git does not track is something runs made rather than code.
_OUTPUT = "a recorded output of a run"
_TRACKING = "a tracking store (its runs travel in the run history)"
_HYDRA = "a Hydra run folder"


def _hydra_run_folders(folders: set[str]) -> tuple[str, ...]:
    """Folders (with their final ``/``) holding a ``.hydra/`` folder with files in it: Hydra
    made them for one run each. ``folders`` are the folders that hold files."""
    found = set()
    for folder in folders:
        marked = "/" + folder + "/"
        at = marked.find("/.hydra/")
        if at > 0:  # a .hydra/ at the project's root does not make the project a run folder
            found.add(marked[1:at + 1])
    return tuple(sorted(found))


def _folder_made_by_runs(folder: str, hydra_runs: tuple[str, ...]) -> str | None:
    """Why every file directly in ``folder`` is something runs made, if it is."""
    if not folder:
        return None
    if any(part in TRACKING_DIRS for part in folder.split("/")):
        return _TRACKING
    if hydra_runs and (folder + "/").startswith(hydra_runs):
        return _HYDRA
    return None


def _collect(listed: list[str], outputs: frozenset[str], git: GitInfo | None) -> CodeFiles:
    """Sort ``listed`` into kept and skipped paths. The rules about folders (tracking stores,
    Hydra run folders) are decided once per folder, not once per file."""
    result = CodeFiles(git=git)
    kept, skipped = result.paths, result.skipped
    verdicts: dict[str, str | None] | None = None
    if git is None:
        folders = {path.rpartition("/")[0] for path in listed}
        hydra_runs = _hydra_run_folders(folders) if any(".hydra" in f for f in folders) else ()
        verdicts = {folder: _folder_made_by_runs(folder, hydra_runs) for folder in folders}
    for path in listed:
        if verdicts is not None:
            folder, _, name = path.rpartition("/")
            made = (_OUTPUT if path in outputs else _TRACKING if name in TRACKING_FILES
                    else verdicts[folder])
            if made:
                skipped.append((path, made))
                continue
        # Credential files by name are left out here; links, special and vanished files are
        # left out when the writer opens them (one open and fstat per file, in its workers).
        reason = secret_by_name(path)
        if reason:
            skipped.append((path, reason))
        else:
            kept.append(path)
    return result


def collect_code(project: Path, outputs: frozenset[str] = frozenset()) -> CodeFiles:
    """The files of ``project`` that belong in ``code/`` (before the content check);
    ``outputs`` are the paths the run history records as outputs of the program's runs."""
    project = Path(project)
    info = git_info(project)
    listed = _git_files(project) if info else None
    if listed is None:
        listed, info = walk_files(project, _ignore_spec(project)), None
    return _collect(listed, outputs, info)


def collect_tree(root: Path, outputs: frozenset[str] = frozenset()) -> CodeFiles:
    """Every regular file under ``root`` (an imported program's ``code/``) that runs did not make."""
    return _collect(walk_files(root, skip=set()) if root.is_dir() else [], outputs, None)
