"""The local program store under ``samepack_home()``.

Layout::

    programs/<name>/<version>/   entry.json, program/samepack.yaml (+ the original file),
                                 and code/ env/ infra/ data/ when imported from a bundle
    staging/                     temporary directories on the same filesystem

Every registration is prepared in full under ``staging/`` and becomes visible with one
``os.rename``; a failed registration leaves nothing behind. Registering identical content
again is a no-op; different content under the same name:version needs ``force``.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from samepack.errors import ConflictError, InputError, NotFoundError
from samepack.paths import samepack_home
from samepack.program.canonical import canonical_yaml, program_digest
from samepack.program.model import Program
from samepack.store.entry import Entry, entry_json_bytes

if TYPE_CHECKING:  # packaging is imported where versions are ordered, not at every run
    from packaging.version import Version


def parse_ref(ref: str) -> tuple[str, str | None]:
    """``"NAME[:VERSION]"`` -> ``(name, version or None)``."""
    name, _, version = ref.partition(":")
    if not name:
        raise InputError(f"program reference {ref!r} has no name", "use NAME or NAME:VERSION")
    return name, version or None


def version_key(version: str) -> tuple[int, Version | str]:
    """Order versions by PEP 440; versions it cannot parse sort before, by text."""
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


class Store:
    def __init__(self, home: Path | None = None) -> None:
        self.home = Path(home) if home else samepack_home()
        self.programs = self.home / "programs"

    # -- reading -------------------------------------------------------------------------------

    def list(self) -> list[Entry]:
        """Every registered program, by name then version."""
        entries = [Entry.read(p) for p in sorted(self.programs.glob("*/*")) if (p / "entry.json").is_file()]
        return sorted(entries, key=lambda e: (e.name, version_key(e.version)))

    def get(self, ref: str) -> Entry:
        """``NAME:VERSION``, or the latest version of ``NAME``."""
        name, version = parse_ref(ref)
        if version is not None:
            path = self.programs / name / version
            if (path / "entry.json").is_file():
                return Entry.read(path)
        else:
            versions = [e for e in self.list() if e.name == name]
            if versions:
                return versions[-1]
        known = ", ".join(e.ref for e in self.list()) or "none yet"
        raise NotFoundError(f"program {ref} is not registered",
                            f"registered: {known}; add one with samepack create program -f FILE")

    # -- writing -------------------------------------------------------------------------------

    def staging_dir(self) -> Path:
        """A fresh directory under ``staging/`` (same filesystem as the store)."""
        staging = self.home / "staging"
        staging.mkdir(parents=True, exist_ok=True)
        import tempfile  # only where a registration is staged, not where one is read

        return Path(tempfile.mkdtemp(prefix="stage-", dir=staging))

    def register(self, program: Program, project_dir: Path | None, source: str | None,
                 force: bool = False, code: Path | None = None) -> Entry:
        """Register a program loaded from a file; steps will run in ``project_dir``, or, with
        ``code`` (a directory under ``staging_dir()``, moved into the entry), in the entry's
        ``code/``."""
        import shutil  # registering, not reading: a run of a registered program needs none

        staged = self.staging_dir()
        try:
            entry = Entry(name=program.name, version=program.version,
                          digest=program_digest(program), path=staged,
                          project_dir=Path(project_dir).resolve() if project_dir else None,
                          created_from="file", source=source)
            (staged / "program").mkdir()
            (staged / "program" / "samepack.yaml").write_text(canonical_yaml(program), encoding="utf-8")
            original = Path(program.source_path) if program.source_path else None
            if original and program.source_format != "samepack" and original.is_file():
                shutil.copy2(original, staged / "program" / original.name)
            if code is not None:
                os.rename(code, staged / "code")
            (staged / "entry.json").write_bytes(entry_json_bytes(entry))
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        return self.register_directory(staged, force)

    def register_directory(self, staged_dir: Path, force: bool = False) -> Entry:
        """Move a fully prepared staging directory (with ``entry.json``) into place."""
        import shutil

        staged = Entry.read(staged_dir)
        target = self.programs / staged.name / staged.version
        with self._lock():
            try:
                if (target / "entry.json").is_file():
                    existing = Entry.read(target)
                    if (existing.digest, existing.project_dir) == (staged.digest, staged.project_dir):
                        shutil.rmtree(staged_dir, ignore_errors=True)
                        return existing
                    if not force:
                        raise ConflictError(
                            f"program {staged.ref} is already registered with different content",
                            "pass --force to replace it, or bump metadata.version")
                    self._discard(target)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(staged_dir, target)
            except BaseException:
                shutil.rmtree(staged_dir, ignore_errors=True)
                raise
        return Entry.read(target)

    def _discard(self, target: Path) -> None:
        import shutil

        trash = self.staging_dir()
        os.rename(target, trash / "old")
        shutil.rmtree(trash, ignore_errors=True)

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / ".store.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
