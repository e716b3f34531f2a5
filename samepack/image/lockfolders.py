"""The local wheel folders a lock's ``--find-links`` lines name, found before a build so the
image install sees them where the lock expects them.

A samepack lock writes a folder of the project relative to the project (``--find-links
vendor``; :mod:`samepack.lock.index_lines`), and uv and pip read it relative to the lock's own
folder. In the build's install stage the lock lies in ``/tmp/samepack/lock/`` (no layer of the
image keeps it), so each folder is staged under ``samepack-build/lock/<folder>`` beside it.
Only what the install can use is staged: the folder's top-level distribution files (wheels and
sdists; the tools do not look deeper) whose sha256 the lock lists, so an old or unrelated wheel
lying in the folder neither enlarges nor changes the image. Those distribution files are
install inputs, not code: ``app/`` (the project as ``/app``) leaves them out, so they travel
once; the folder's other files stay.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from samepack.errors import InputError

_FIND_LINKS = re.compile(r"^\s*(?:--find-links|-f)(?:\s*=\s*|\s+)(?P<value>\S.*?)\s*$")
_HASH = re.compile(r"--hash[=\s]+sha256:(?P<hex>[0-9a-fA-F]{64})")
DISTRIBUTION_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz")


@dataclass(frozen=True)
class LockFolder:
    """A local folder the lock names, and the files of it the image install needs."""

    name: str  # as the lock names it, relative POSIX ("vendor", "libs/wheels", ".")
    source: Path  # the folder on this machine
    files: tuple[str, ...]  # names of the distribution files to stage, sorted


def lock_folders(lock_file: Path, project: Path) -> tuple[LockFolder, ...]:
    """The local ``--find-links`` folders of ``lock_file`` (relative to the ``project``, as
    samepack writes them), each with the files the lock pins. Raises InputError naming the
    lock's line when a folder is missing or lies outside the project."""
    try:
        text = lock_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()  # staging reports the missing lock
    pinned = {match.group("hex").lower() for match in _HASH.finditer(text)}
    found: dict[str, LockFolder] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        value = _link_value(line)
        if value is None or ("://" in value and not value.startswith("file:")):
            continue  # a find-links page is fetched from the build like an index
        name = _inside(value, lock_file, number, project)
        if name not in found:
            found[name] = _folder(name, project, lock_file, number, pinned)
    return tuple(found[name] for name in sorted(found))


def _link_value(line: str) -> str | None:
    match = _FIND_LINKS.match(line.split(" #", 1)[0])
    if not match:
        return None
    try:
        parts = shlex.split(match.group("value"))
    except ValueError:
        return None
    return parts[0] if parts else None


def _inside(value: str, lock_file: Path, number: int, project: Path) -> str:
    """``value`` as a normalised POSIX path relative to the project, or an error."""
    where = PurePosixPath(os.path.normpath(value.replace("\\", "/")))
    if value.startswith("file:") or where.is_absolute() or where.parts[:1] == ("..",):
        raise InputError(f"{lock_file} line {number}: --find-links {value} is not a folder of "
                         f"the project {project} written relative to it, so the image build "
                         "cannot see it",
                         hint="move the folder into the project and run `samepack package-env` "
                              "again, or give the build its wheels with --wheelhouse DIR")
    return where.as_posix()


def _folder(name: str, project: Path, lock_file: Path, number: int,
            pinned: set[str]) -> LockFolder:
    source = project / name
    if not source.is_dir():
        state = "is not a folder" if source.exists() else "does not exist"
        raise InputError(f"{lock_file} line {number}: --find-links {name} names {source}, "
                         f"which {state}",
                         hint=f"restore {name}/ with the wheels the lock was made from, or run "
                              "`samepack package-env` again without it")
    files = sorted(entry.name for entry in source.iterdir()
                   if entry.name.endswith(DISTRIBUTION_SUFFIXES) and entry.is_file()
                   and _sha256(entry) in pinned)
    return LockFolder(name, source, tuple(files))


def is_distribution_in(rel: str, folders: tuple[LockFolder, ...]) -> bool:
    """Whether the project file ``rel`` (POSIX) is a distribution file lying at the top of
    one of ``folders``: something the install reads, not the program."""
    parent, _, name = rel.rpartition("/")
    return name.endswith(DISTRIBUTION_SUFFIXES) and any(
        (parent or ".") == folder.name for folder in folders)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
