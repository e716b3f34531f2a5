"""``import_bundle``: verify a bundle (file or extracted directory) completely while extracting
it into a store staging directory, then register it with one rename. A failed import leaves
nothing behind; importing the same bundle again changes nothing."""

from __future__ import annotations

import contextlib
import marshal
import os
import shutil
import signal
from dataclasses import dataclass, field
from pathlib import Path

from samepack.bundle.system.children import (can_fork, describe_error, fork_child, revive_error,
                                             write_all)
from samepack.bundle.system.gcpause import gc_paused
from samepack.bundle.format.manifest import MANIFEST_NAME
from samepack.bundle.read.reader import VerifiedBundle, read_bundle
from samepack.bundle.read.safety import Limits
from samepack.bundle.read.staging import StagingSink
from samepack.errors import (ConflictError, InputError, ResourceError, SamepackError,
                             VerificationError)

PROGRAM_FILE = "program/samepack.yaml"


@dataclass
class ImportOptions:
    as_ref: str | None = None
    force: bool = False
    limits: Limits = field(default_factory=Limits)
    progress: bool = False  # a progress bar on a terminal (the command line)


def verify_any(path: Path, limits: Limits, open_sink=None, progress: bool = False
               ) -> VerifiedBundle:
    """Verify a bundle file or an extracted bundle directory; ``progress`` shows a bar for a
    file on a terminal (drawn without a thread, so the caller may still fork)."""
    path = Path(path)
    if path.is_dir():
        from samepack.bundle.read.directory import read_directory

        return read_directory(path, limits, open_sink)
    if not path.exists():
        raise InputError(f"{path}: no such bundle file or directory",
                         hint="give the path of a .tgz written by `samepack export`")
    if not progress:
        return read_bundle(path, limits, open_sink)
    from samepack.console import byte_counter

    with byte_counter("verifying", path.stat().st_size) as advance:
        return read_bundle(path, limits, open_sink, advance)


def check_as_ref(as_ref: str) -> tuple[str, str | None]:
    """``--as NAME[:VERSION]``, held to the one name rule of programs."""
    from samepack.bundle.read.safety import check_program_ref

    name, _, version = as_ref.partition(":")
    check_program_ref(name, version or "1", f"--as {as_ref!r}", error=InputError)
    return name, version or None


def _staged_contents(staged: Path, listed):
    """The shared content checks (``contents.check_contents``) on the staged files."""
    from samepack.bundle.read.contents import check_contents

    return check_contents(listed, lambda member: (staged / member).read_bytes(),
                          lambda member: (staged / member).is_file())


def _program(staged: Path, program, as_ref: str | None):
    """The checked program, renamed to ``as_ref`` when given."""
    if as_ref:
        from samepack.program.canonical import canonical_yaml

        name, version = check_as_ref(as_ref)
        program.name, program.version = name, version or program.version
        (staged / PROGRAM_FILE).write_text(canonical_yaml(program), encoding="utf-8")
    return program


def verify_bundle(path: Path, limits: Limits, progress: bool = False,
                  keep: tuple[str, ...] = ()):
    """What ``verify`` and ``inspect`` check: every member (``verify_any``), then the same
    content checks import applies, on the captured program file, runs and pointers;
    ``(VerifiedBundle, Contents, {member: bytes})`` with the bytes of the ``keep`` members."""
    from samepack.bundle.read.contents import CHECKED, Listed, check_contents
    from samepack.bundle.read.inspect import Capture

    capture = Capture(CHECKED + keep)
    verified = verify_any(path, limits, capture, progress)
    files = {m.path for m in verified.manifest.members()}
    contents = check_contents(Listed.of(verified.manifest),
                              lambda member: capture.captured[member], files.__contains__)
    return verified, contents, {name: capture.captured[name] for name in keep
                                if name in capture.captured}


def _place_data(staged: Path, program) -> None:
    """Data files that came in the bundle also appear where the steps look for them
    (``code/<path>``, as hard links) unless the code already holds that path."""
    if not (staged / "data").is_dir():
        return
    from samepack.bundle.parts.data import member_for

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
    from samepack.bundle.system.atomic import pid_alive

    for mark in (Path(store.home) / "staging").glob(f"*/{_MARK}*"):
        pid = mark.name[len(_MARK):]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            shutil.rmtree(mark.parent, ignore_errors=True)


def _extract(path: Path, limits: Limits, staged: Path, progress: bool = False
             ) -> tuple[str, str, dict[str, int]]:
    """Verify the bundle while creating its files under ``staged``, then write its manifest
    there; what the content checks need of it (``contents.Listed``, as plain values)."""
    from samepack.bundle.read.contents import Listed

    with StagingSink(staged) as sink:
        verified = verify_any(path, limits, sink, progress)
    (staged / MANIFEST_NAME).write_bytes(verified.manifest_bytes)
    listed = Listed.of(verified.manifest)
    return listed.name, listed.version, listed.sizes


def _extract_aside(path: Path, limits: Limits, staged: Path, progress: bool = False):
    """``_extract`` in a child process while this one loads what registering the program
    needs (jsonschema alone takes about as long as checking the manifest of 20,000 files);
    in this process when it cannot fork safely. The child dies with this process. The
    ``contents.Listed`` of the bundle."""
    from samepack.bundle.read.contents import Listed

    if not can_fork():
        return Listed(*_extract(path, limits, staged, progress))
    results, report = os.pipe()

    def extract() -> int:
        os.close(results)
        try:
            outcome, status = ("ok", *_extract(path, limits, staged, progress)), 0
        except BaseException as error:  # reported to the parent, which raises it
            outcome, status = describe_error(error), 1
        write_all(report, marshal.dumps(outcome))
        return status

    pid = fork_child(extract)
    os.close(report)
    with os.fdopen(results, "rb") as stream:
        try:
            _preload_registration()
            outcome = stream.read()
            _, status = os.waitpid(pid, 0)
        except BaseException:  # Ctrl-C: stop the child before the staged files are removed
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            stream.read()  # ends once the child's file maker, which holds the pipe too, is gone
            raise
    if not outcome:
        raise ResourceError(f"the process verifying the bundle ended with status {status}",
                            hint="it may have run out of memory; check the machine's limits")
    outcome = marshal.loads(outcome)
    if outcome[0] != "ok":
        raise revive_error(outcome)
    return Listed(*outcome[1:])


def _preload_registration() -> None:
    """Import the modules that load and validate the program file (with jsonschema, slow to
    import); any failure shows again where they are used."""
    with contextlib.suppress(Exception):
        import jsonschema  # noqa: F401

        import samepack.program.samepack_format  # noqa: F401


def _stage(path: Path, store, options: ImportOptions):
    """The bundle extracted, checked and ready to register: ``(staging dir, Contents)``."""
    from samepack.program.canonical import program_digest
    from samepack.store.entry import Entry, entry_json_bytes

    clean_stale_staging(store)
    staged = store.staging_dir()
    mark = staged / f"{_MARK}{os.getpid()}"
    mark.touch()
    try:
        listed = _extract_aside(path, options.limits, staged, options.progress)
        contents = _staged_contents(staged, listed)
        program = _program(staged, contents.program, options.as_ref)
        _place_data(staged, program)
        entry = Entry(name=program.name, version=program.version,
                      digest=program_digest(program), path=staged, project_dir=None,
                      created_from="bundle", source=str(Path(path).absolute()))
        (staged / "entry.json").write_bytes(entry_json_bytes(entry))
        _check_conflict(store, staged, program.name, program.version, options.force)
        mark.unlink()
    except OSError as error:
        shutil.rmtree(staged, ignore_errors=True)
        raise _staging_error(error, staged) from None
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return staged, contents


def _staging_error(error: OSError, staged: Path) -> SamepackError:
    """An OS failure while creating the bundle's files, naming the member (not the staging
    path, which is gone by the time the message is read)."""
    import errno

    where = ""
    if error.filename:
        relative = os.path.relpath(str(error.filename), staged)
        where = f" ({relative})" if not relative.startswith("..") else ""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return ResourceError(f"no space left to import the bundle{where}",
                             hint="free space under SAMEPACK_HOME, or point it elsewhere")
    return VerificationError(f"cannot create the bundle's files: "
                             f"{error.strerror or type(error).__name__}{where}",
                             hint="the bundle holds names this file system cannot store")


def _restore_history(entry, records: list[dict]) -> int:
    """Add the bundle's run records (checked before registering) to this machine's history."""
    if not records:
        return 0
    from samepack.history import History

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
                       limits: Limits | None = None, progress: bool = False,
                       signature_checked: bool = False) -> ImportResult:
    """``import_bundle`` with what else happened: runs restored and the data pointers. The
    signature policy is enforced here unless the caller checked the signature already."""
    from samepack.store import Store

    if as_ref:
        check_as_ref(as_ref)
    if not signature_checked:
        from samepack.trust.gate import enforce_policy

        enforce_policy(Path(path))

    store = store or Store()
    options = ImportOptions(as_ref, force, limits or Limits(), progress)
    with gc_paused():
        staged, contents = _stage(Path(path), store, options)
    entry = store.register_directory(staged, force)
    return ImportResult(entry, _restore_history(entry, contents.runs), contents.pointers)
