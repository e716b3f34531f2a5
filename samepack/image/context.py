"""The build context, staged in a directory of its own: ``app/`` holds the project filtered by
the .dockerignore rules (so secrets and data never reach the builder), ``samepack-build/``
the uv binary, an optional wheelhouse (``wheels/``) and ``lock/``: the lock with the local wheel
folders its ``--find-links`` lines name, at the same places relative to it
(:mod:`samepack.image.lockfolders`). A project file whose content holds a credential (a
password in an index URL, a private key, a token: the bundle's rules) is withheld from ``app/``
as the bundle's code part drops it. Files get one mtime and normalised modes, so the same
project gives the same layers."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pathspec

from samepack.bundle.parts.secrets import ContentScreen
from samepack.errors import InputError
from samepack.image.lockfolders import LockFolder, is_distribution_in

APP_DIR = "app"
SUPPORT_DIR = "samepack-build"
LOCK_DIR = "lock"  # inside SUPPORT_DIR: the lock and its find-links folders


@dataclass(frozen=True)
class ContextPlan:
    """What goes into a build context."""

    project: Path
    dockerfile: str
    dockerignore: str
    lock_file: Path
    uv_binary: Path
    wheelhouse: Path | None = None
    lock_folders: tuple[LockFolder, ...] = ()
    mtime: int = 0


@dataclass(frozen=True)
class StagedContext:
    root: Path
    files: list[str]  # paths under app/, sorted
    withheld: list[tuple[str, str]]  # (path, why) of project files kept out for their content


def ignore_spec(dockerignore: str) -> pathspec.PathSpec:
    lines = [line for line in dockerignore.splitlines() if line.strip() and not line.startswith("#")]
    return pathspec.GitIgnoreSpec.from_lines(lines)


def project_files(project: Path, spec: pathspec.PathSpec) -> Iterator[str]:
    """Relative POSIX paths of the files to ship, sorted, ignored directories not descended;
    symbolic links are followed only when they stay inside the project."""
    root = project.resolve()
    for current, dirs, files in os.walk(root):
        rel_dir = Path(current).relative_to(root)
        dirs[:] = sorted(d for d in dirs if not spec.match_file(f"{(rel_dir / d).as_posix()}/")
                         and not (Path(current) / d).is_symlink())
        for name in sorted(files):
            rel = (rel_dir / name).as_posix()
            path = Path(current) / name
            if spec.match_file(rel) or not path.resolve().is_relative_to(root):
                continue
            if path.is_file():
                yield rel


def _place(source: Path, target: Path, mtime: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    executable = os.access(source, os.X_OK)
    os.chmod(target, 0o755 if executable else 0o644)
    os.utime(target, (mtime, mtime))


def _write(target: Path, text: str, mtime: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    os.chmod(target, 0o644)
    os.utime(target, (mtime, mtime))


def _settle_dirs(root: Path, mtime: int) -> None:
    for current, dirs, _ in os.walk(root, topdown=False):
        for name in dirs:
            os.chmod(Path(current) / name, 0o755)
            os.utime(Path(current) / name, (mtime, mtime))
    os.utime(root, (mtime, mtime))


def stage_context(plan: ContextPlan, target: Path) -> StagedContext:
    """Fill the empty directory ``target`` with the build context of ``plan``."""
    if not plan.lock_file.is_file():
        raise InputError(f"{plan.lock_file}: the lock file does not exist",
                         hint="run `samepack package-env` to write requirements.txt first")
    spec = ignore_spec(plan.dockerignore)
    files: list[str] = []
    withheld: list[tuple[str, str]] = []
    screen = ContentScreen()
    for rel in project_files(plan.project, spec):
        if is_distribution_in(rel, plan.lock_folders):
            continue  # it goes beside the lock
        why = screen.check(rel, plan.project / rel)
        if why:
            withheld.append((rel, why))
            continue
        files.append(rel)
        _place(plan.project / rel, target / APP_DIR / rel, plan.mtime)
    screen.remember()
    (target / APP_DIR).mkdir(exist_ok=True)
    support = target / SUPPORT_DIR
    lock_dir = support / LOCK_DIR
    _place(plan.lock_file, lock_dir / plan.lock_file.name, plan.mtime)
    for folder in plan.lock_folders:
        (lock_dir / folder.name).mkdir(parents=True, exist_ok=True)
        for name in folder.files:
            _place(folder.source / name, lock_dir / folder.name / name, plan.mtime)
    _place(plan.uv_binary, support / "uv", plan.mtime)
    if plan.wheelhouse:
        for wheel in sorted(plan.wheelhouse.iterdir()):
            if wheel.is_file():
                _place(wheel, support / "wheels" / wheel.name, plan.mtime)
    _write(target / "Dockerfile", plan.dockerfile, plan.mtime)
    _write(target / ".dockerignore", "", plan.mtime)  # already applied while staging
    _settle_dirs(target, plan.mtime)
    return StagedContext(target, files, withheld)
