"""What a build needs to know about a project, read from disk, git and the scanner: the
program (when it has one), the lock, the Python version, hardware needs and system libraries.
The one place with I/O before rendering; everything after it is pure."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from samepack.envfiles.envjson import read_raw
from samepack.envfiles.locations import recorded_conda_lock, recorded_pip_lock
from samepack.errors import InputError, NotFoundError
from samepack.image.base import cuda_from_lock, python_minor
from samepack.image.index_secrets import IndexSecret, index_secrets, refuse_literal_credentials
from samepack.image.lockfolders import LockFolder, lock_folders
from samepack.program.model import Program


@dataclass(frozen=True)
class ProjectFacts:
    root: Path
    name: str
    version: str
    lock_file: Path
    python: str
    lock_folders: tuple[LockFolder, ...] = ()  # the local --find-links folders the lock names
    index_secrets: tuple[IndexSecret, ...] = ()  # ${VAR} credentials its index lines read
    gpu: bool = False
    cuda: tuple[str | None, ...] = ()  # candidates: lock pin first, then the scan's finding
    system_libraries: tuple[str, ...] = ()
    data_paths: tuple[str, ...] = ()
    user_ignore: tuple[str, ...] = ()
    source: str | None = None
    revision: str | None = None
    source_date_epoch: int = 0
    warnings: list[str] = field(default_factory=list)


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def clean_url(url: str | None) -> str | None:
    """A repository URL without credentials (``https://user:token@host/x`` -> ``https://host/x``)."""
    if not url:
        return None
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1", url)


def source_date_epoch(root: Path) -> int:
    """``SOURCE_DATE_EPOCH`` when set, else the time of the project's last commit, else 0."""
    configured = os.environ.get("SOURCE_DATE_EPOCH")
    if configured:
        try:
            return int(configured)
        except ValueError:
            raise InputError(f"SOURCE_DATE_EPOCH: '{configured}' is not a number of seconds",
                             hint="export SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)") from None
    committed = _git(root, "log", "-1", "--format=%ct")
    return int(committed) if committed and committed.isdigit() else 0


def load_project_program(root: Path) -> Program | None:
    """The project's program, when it has a program file."""
    try:
        from samepack.program import find_program_file, load_program
    except ImportError:
        return None
    try:
        find_program_file(root)
    except InputError:
        return None
    return load_program(root, show_warnings=False)


def resolve_project(target: str) -> Path:
    """A project directory from ``PATH`` or a registered ``NAME:VERSION``."""
    path = Path(target)
    if path.is_dir():
        return path.resolve()
    if ":" in target or not path.exists():
        try:
            from samepack.store import Store
        except ImportError:
            raise NotFoundError(f"{target}: no such project directory",
                                hint="give the project's directory") from None
        return Path(Store().get(target).workdir).resolve()
    raise InputError(f"{target}: not a project directory", hint="give the project's directory")


def _scan(root: Path, python: str):
    try:
        from samepack.scan import scan_project
    except ImportError:
        return None
    return scan_project(root, python)


def _user_ignore(root: Path) -> tuple[str, ...]:
    path = root / ".dockerignore"
    if not path.is_file():
        return ()
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def gather_facts(root: Path) -> ProjectFacts:
    """Everything the Dockerfile and the build context are rendered from."""
    program = load_project_program(root)
    recorded = read_raw(root).get("files") or {}
    conda_lock = recorded_conda_lock(recorded)
    if conda_lock:
        raise InputError(f"{root / conda_lock}: the project's environment is locked for conda; "
                         "samepack build installs a pip lock only",
                         hint="lock it for pip (`samepack package-env --locker uv`: the "
                              "environment.yml's PyPI equivalents), or run it where conda "
                              "installs it: `samepack env create` / `samepack run`")
    lock_name = ((program.environment.lock if program else None)
                 or recorded_pip_lock(recorded) or "requirements.txt")
    # A program imported from a bundle runs in <entry>/code and keeps its lock in <entry>/env.
    candidates = [root / lock_name, root.parent / "env" / lock_name]
    lock_file = next((path for path in candidates if path.is_file()), candidates[0])
    if not lock_file.is_file():
        raise InputError(f"{lock_file}: the project has no lock file",
                         hint=f"run `samepack package-env {root}` to write it")
    lock_text = lock_file.read_text(encoding="utf-8", errors="replace")
    refuse_literal_credentials(lock_text, lock_file)  # checked before anything is built
    folders = lock_folders(lock_file, root)
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    python = python_minor(program.environment.python if program else None, "")
    scan = _scan(root, python or running)
    if not python and scan is not None:
        python = python_minor(scan.python.version, "")
    hardware = scan.hardware if scan is not None else None
    return ProjectFacts(
        root=root,
        name=program.name if program else root.name,
        version=program.version if program else "latest",
        lock_file=lock_file,
        lock_folders=folders,
        index_secrets=index_secrets(lock_text),
        python=python or running,
        gpu=bool(hardware and hardware.gpu),
        cuda=(cuda_from_lock(lock_text), hardware.cuda if hardware else None),
        system_libraries=tuple(sorted({lib.name for lib in scan.system_libraries})) if scan else (),
        data_paths=tuple(sorted(d.path for d in program.datasets.values() if d.path)) if program else (),
        user_ignore=_user_ignore(root),
        source=clean_url(_git(root, "config", "--get", "remote.origin.url")),
        revision=_git(root, "rev-parse", "HEAD"),
        source_date_epoch=source_date_epoch(root),
    )
