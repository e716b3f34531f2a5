"""``import_bundle``: verify a bundle (file or extracted directory) completely while extracting
it into a store staging directory, then register it with one rename. A failed import leaves
nothing behind; importing the same bundle again changes nothing."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from samepack.bundle.data import POINTERS, member_for, read_pointers
from samepack.bundle.manifest import MANIFEST_NAME, Member
from samepack.bundle.parts import RUNS, read_runs
from samepack.bundle.reader import VerifiedBundle, read_bundle
from samepack.bundle.safety import Limits
from samepack.errors import ConflictError, InputError, VerificationError
from samepack.program.canonical import canonical_yaml, program_digest

PROGRAM_FILE = "program/samepack.yaml"


class _FileWriter:
    """Writes straight to a descriptor: one file per member, no buffering layer to set up."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.descriptor, view):]

    def close(self) -> None:
        os.close(self.descriptor)


class StagingSink:
    """Opens each member's file under the staging directory: new files only, no following of
    links, parents created inside the staging directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.made: set[str] = set()
        self.umask = os.umask(0o022)
        os.umask(self.umask)

    def __call__(self, member: Member):
        target = os.path.join(self.root, member.path)
        parent = os.path.dirname(target)
        if parent not in self.made:
            os.makedirs(parent, exist_ok=True)
            self.made.add(parent)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(target, flags, member.mode)
        if member.mode & self.umask:
            os.fchmod(descriptor, member.mode)
        return _FileWriter(descriptor)


@dataclass
class ImportOptions:
    as_ref: str | None = None
    force: bool = False
    limits: Limits = field(default_factory=Limits)


def verify_any(path: Path, limits: Limits, open_sink=None) -> VerifiedBundle:
    """Verify a bundle file or an extracted bundle directory."""
    path = Path(path)
    if path.is_dir():
        from samepack.bundle.directory import read_directory

        return read_directory(path, limits, open_sink)
    if not path.exists():
        raise InputError(f"{path}: no such bundle file or directory",
                         hint="give the path of a .tgz written by `samepack export`")
    return read_bundle(path, limits, open_sink)


def _program(staged: Path, verified: VerifiedBundle, as_ref: str | None):
    from samepack.program.samepack_format import load_samepack_yaml

    if not (staged / PROGRAM_FILE).is_file():
        raise VerificationError(f"the bundle has no {PROGRAM_FILE}",
                                hint="export it again with `samepack export program`")
    program = load_samepack_yaml(staged / PROGRAM_FILE)
    manifest = verified.manifest
    if (program.name, program.version) != (manifest.name, manifest.version):
        raise VerificationError(f"{PROGRAM_FILE} names {program.ref}, the manifest "
                                f"{manifest.name}:{manifest.version}")
    if as_ref:
        from samepack.store import parse_ref

        name, version = parse_ref(as_ref)
        program.name, program.version = name, version or program.version
        (staged / PROGRAM_FILE).write_text(canonical_yaml(program), encoding="utf-8")
    return program


def _place_data(staged: Path, program) -> None:
    """Data files that came in the bundle also appear where the steps look for them
    (``code/<path>``, as hard links) unless the code already holds that path."""
    for dataset in program.datasets.values():
        member = member_for(dataset.path)
        source = staged / member if member else None
        if source is None or not source.is_file():
            continue
        target = staged / "code" / dataset.path
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)


def _check_conflict(store, staged: Path, name: str, version: str, force: bool) -> None:
    """The store compares programs only; a bundle with other code under the same name and
    version is a conflict too, replaced only with ``force``."""
    existing = store.programs / name / version
    ours = (staged / MANIFEST_NAME).read_bytes()
    theirs = existing / MANIFEST_NAME
    if not (existing / "entry.json").is_file():
        return
    same = theirs.is_file() and theirs.read_bytes() == ours
    if same and not force:
        return
    if not same and not force:
        raise ConflictError(f"program {name}:{version} is already registered with different "
                            "content", hint="pass --force to replace it, or import it --as "
                                            "NAME:VERSION")
    trash = store.staging_dir()
    os.rename(existing, trash / "old")
    shutil.rmtree(trash, ignore_errors=True)


_MARK = ".samepack-import-"


def clean_stale_staging(store) -> None:
    """Remove staging directories of imports whose process was killed (they carry a
    ``.samepack-import-<pid>`` mark while the import runs)."""
    from samepack.bundle.atomic import pid_alive

    for mark in (Path(store.home) / "staging").glob(f"*/{_MARK}*"):
        pid = mark.name[len(_MARK):]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            shutil.rmtree(mark.parent, ignore_errors=True)


def _stage(path: Path, store, options: ImportOptions) -> Path:
    from samepack.store.entry import Entry, entry_json_bytes

    clean_stale_staging(store)
    staged = store.staging_dir()
    mark = staged / f"{_MARK}{os.getpid()}"
    mark.touch()
    try:
        verified = verify_any(path, options.limits, StagingSink(staged))
        (staged / MANIFEST_NAME).write_bytes(verified.manifest_bytes)
        program = _program(staged, verified, options.as_ref)
        _place_data(staged, program)
        entry = Entry(name=program.name, version=program.version,
                      digest=program_digest(program), path=staged, project_dir=None,
                      created_from="bundle", source=str(Path(path).absolute()))
        (staged / "entry.json").write_bytes(entry_json_bytes(entry))
        _check_conflict(store, staged, program.name, program.version, options.force)
        mark.unlink()
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return staged


def _restore_history(entry) -> int:
    runs = Path(entry.path) / RUNS
    if not runs.is_file():
        return 0
    from samepack.history import History

    records = read_runs(runs.read_bytes())
    for record in records:
        record["program"], record["version"] = entry.name, entry.version
    history = History()
    try:
        return history.import_runs(records)
    finally:
        history.close()


@dataclass
class ImportResult:
    entry: object
    runs_added: int
    pointers: list[dict]


def import_bundle(path: Path, store=None, as_ref: str | None = None, force: bool = False,
                  limits: Limits | None = None):
    """Verify and register the bundle at ``path``, restore its run history; the Entry."""
    return import_with_report(path, store, as_ref, force, limits).entry


def fetch_data(entry) -> dict[str, str]:
    """Fetch every data set the imported program can get (bundled, local or by URI) into the
    run cache and check its size and sha256; ``{name: local path}``."""
    from samepack.paths import samepack_home
    from samepack.run.datasets import resolve_datasets

    return resolve_datasets(entry.program, Path(entry.workdir),
                            samepack_home() / "cache" / "datasets")


def import_with_report(path: Path, store=None, as_ref: str | None = None, force: bool = False,
                       limits: Limits | None = None) -> ImportResult:
    """``import_bundle`` with what else happened: runs restored and the data pointers."""
    from samepack.store import Store

    store = store or Store()
    options = ImportOptions(as_ref, force, limits or Limits())
    staged = _stage(Path(path), store, options)
    entry = store.register_directory(staged, force)
    pointers_file = Path(entry.path) / POINTERS
    pointers = read_pointers(pointers_file.read_bytes()) if pointers_file.is_file() else []
    return ImportResult(entry, _restore_history(entry), pointers)
