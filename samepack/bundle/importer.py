"""``import_bundle``: verify a bundle (file or extracted directory) completely while extracting
it into a store staging directory, then register it with one rename. A failed import leaves
nothing behind; importing the same bundle again changes nothing."""

from __future__ import annotations

import contextlib
import io
import marshal
import os
import select
import shutil
import signal
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from samepack import errors
from samepack.bundle.manifest import MANIFEST_NAME, Member
from samepack.bundle.reader import VerifiedBundle, read_bundle
from samepack.bundle.safety import Limits
from samepack.errors import ConflictError, InputError, SamepackError, VerificationError

PROGRAM_FILE = "program/samepack.yaml"


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def _write_all(descriptor: int, data) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view):]


class _FileWriter:
    """Writes straight to a descriptor: one file per member, no buffering layer to set up."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor

    def write(self, data: bytes) -> None:
        _write_all(self.descriptor, data)

    def close(self) -> None:
        os.close(self.descriptor)


class _Files:
    """Creates files under ``root``: new files only, no following of links, parents created
    inside ``root``."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.made: set[str] = set()
        self.umask = os.umask(0o022)
        os.umask(self.umask)

    def open(self, path: str, mode: int) -> int:
        parent = path.rpartition("/")[0]
        if parent not in self.made:
            os.makedirs(f"{self.root}/{parent}", exist_ok=True)
            self.made.add(parent)
        descriptor = os.open(f"{self.root}/{path}", _CREATE, mode)
        if mode & self.umask:
            os.fchmod(descriptor, mode)
        return descriptor

    def whole(self, path: str, mode: int, data) -> None:
        self.many([(path, mode, data)])

    def many(self, files: Iterable[tuple[str, int, object]]) -> None:
        """Create each ``(path, mode, content)``: ``open`` and a write in one loop, since
        per file the calls cost about as much as the system calls."""
        root, made, umask = self.root, self.made, self.umask
        for path, mode, data in files:
            parent = path.rpartition("/")[0]
            if parent not in made:
                os.makedirs(f"{root}/{parent}", exist_ok=True)
                made.add(parent)
            descriptor = os.open(f"{root}/{path}", _CREATE, mode)
            try:
                if mode & umask:
                    os.fchmod(descriptor, mode)
                written = os.write(descriptor, data) if len(data) else 0
                if written < len(data):  # a short write: rare, but allowed
                    _write_all(descriptor, memoryview(data)[written:])
            finally:
                os.close(descriptor)


# The file maker's work comes as (operation, path, mode, size) entries: create a file with
# the next ``size`` bytes of content; create a file and keep it open; append the next
# ``size`` bytes to it; close it.
_WHOLE, _OPEN, _APPEND, _CLOSE = range(4)
_FRAME = struct.Struct("<II")  # lengths of the entry list and of the content that follow
_BATCH_ENTRIES, _BATCH_BYTES = 256, 512 * 1024
_PIPE_BYTES = 1024 * 1024
_DIRECT_FILES = 256  # files created in this process before a file maker is worth starting


class _FileMaker:
    """A child process that creates the staged files while this one reads and verifies.

    Creating many small files costs about as much as verifying them, nearly all in system
    calls; a second process does it on the other core (a thread would not: each return from
    a system call waits for the GIL the verifying thread holds). Batches of entries and
    content go through a pipe, which bounds the memory in flight; the child reports its first
    error back and dies with this process.
    """

    def __init__(self, files: _Files) -> None:
        import fcntl

        self.files = files
        feed_read, self.feed = os.pipe()
        self.results, results_write = os.pipe()
        with contextlib.suppress(OSError, AttributeError):
            fcntl.fcntl(self.feed, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        try:
            self.capacity = fcntl.fcntl(self.feed, fcntl.F_GETPIPE_SZ)
        except (OSError, AttributeError):
            self.capacity = 0  # unknown: always send
        parent = os.getpid()

        def serve() -> int:
            os.close(self.feed)
            os.close(self.results)
            return _Child(files, parent).serve(feed_read, results_write)

        self.pid = _fork(serve)
        os.close(feed_read)
        os.close(results_write)
        self.batch: list[tuple[int, str, int, object]] = []
        self.size = 0
        self.whole_files_only = True
        self.limit = min(_BATCH_BYTES, self.capacity // 2) if self.capacity else _BATCH_BYTES

    def add(self, operation: int, path: str = "", mode: int = 0, data=b"") -> None:
        """Queue one entry; ``data`` must stay unchanged until it is sent."""
        if operation != _WHOLE:
            self.whole_files_only = False  # a batch this process cannot take over
        self.batch.append((operation, path, mode, data))
        self.size += len(data)
        if len(self.batch) >= _BATCH_ENTRIES or self.size >= self.limit:
            self.flush()

    def flush(self) -> None:
        """Send the pending batch, or create its files here when the child is so far behind
        that the pipe has no room for it; raise the child's error if it reported one."""
        if self.batch:
            batch, size, whole_files_only = self.batch, self.size, self.whole_files_only
            self.batch, self.size, self.whole_files_only = [], 0, True
            if whole_files_only and self.capacity and _pending(self.feed) + size > self.capacity:
                self.files.many((path, mode, data) for _, path, mode, data in batch)
            else:
                self._send(batch, size)
        if select.select([self.results], [], [], 0)[0]:  # a report, or the child is gone
            self._end()

    def _send(self, batch: list, size: int) -> None:
        entries = marshal.dumps([(operation, path, mode, len(data))
                                 for operation, path, mode, data in batch])
        buffers = [_FRAME.pack(len(entries), size), entries]
        buffers += [data for _, _, _, data in batch if len(data)]
        try:
            _send(self.feed, buffers)
        except BrokenPipeError:
            self._end()
            raise OSError("the process creating the imported files ended early") from None

    def close(self) -> None:
        """Wait until every file is created; raise the child's error, if any."""
        if self.pid:
            self.flush()
            self._end()

    def _end(self) -> None:
        """Close the feed and wait for the child; raise its error, if it had one."""
        if self.pid == 0:
            return
        os.close(self.feed)
        with os.fdopen(self.results, "rb") as results:
            report = results.read()
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if report:
            raise _revive(marshal.loads(report))
        if status:
            raise OSError(f"the process creating the imported files ended with status {status}")

    def abort(self) -> None:
        """Stop the child at once (what it made is about to be removed)."""
        if self.pid == 0:
            return
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self.pid = 0
        os.close(self.feed)
        os.close(self.results)


def _pending(descriptor: int) -> int:
    """Bytes written to a pipe and not yet read."""
    import array
    import fcntl
    import termios

    count = array.array("i", [0])
    fcntl.ioctl(descriptor, termios.FIONREAD, count, True)
    return count[0]


def _send(descriptor: int, buffers: list) -> None:
    """Write all buffers with as few system calls as the system allows, views uncopied."""
    views = [memoryview(buffer).cast("B") for buffer in buffers]
    start = 0
    while start < len(views):
        written = os.writev(descriptor, views[start:start + 1024])
        while start < len(views) and written >= len(views[start]):
            written -= len(views[start])
            start += 1
        if written:
            views[start] = views[start][written:]


class _Child:
    """The file maker's side: apply batches until the feed ends; after a failure, only read
    (so the parent never blocks) and exit with status 1."""

    def __init__(self, files: _Files, parent: int) -> None:
        self.files, self.parent = files, parent
        self.current = -1  # the file an _OPEN left open

    def serve(self, feed: int, results: int) -> int:
        source = io.FileIO(feed, "rb")
        header, failed = bytearray(_FRAME.size), False
        while _read_exact(source, header):
            entries, data = (bytearray(size) for size in _FRAME.unpack(header))
            if not (_read_exact(source, entries) and _read_exact(source, data)):
                return 1
            if failed or os.getppid() != self.parent:
                failed = True
                continue
            try:
                self.apply(marshal.loads(entries), memoryview(data))
            except Exception as error:  # reported to the parent, which raises it
                _write_all(results, marshal.dumps(_describe(error)))
                failed = True
        return 1 if failed else 0

    def apply(self, entries: list, data: memoryview) -> None:
        if all(entry[0] == _WHOLE for entry in entries):
            self.files.many(_contents(entries, data))
            return
        offset = 0
        for operation, path, mode, size in entries:
            if operation == _WHOLE:
                self.files.whole(path, mode, data[offset:offset + size])
            elif operation == _OPEN:
                self.current = self.files.open(path, mode)
            elif operation == _APPEND:
                _write_all(self.current, data[offset:offset + size])
            else:
                os.close(self.current)
            offset += size


def _contents(entries: list, data: memoryview) -> Iterator[tuple[str, int, memoryview]]:
    """``(path, mode, content)`` of _WHOLE entries, their content cut from ``data``."""
    offset = 0
    for _, path, mode, size in entries:
        yield path, mode, data[offset:offset + size]
        offset += size


def _fork(body: Callable[[], int]) -> int:
    """Run ``body`` in a child process, which exits with the status it returns, ignores
    Ctrl-C (this process handles it) and dies with this process; the child's pid."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            _die_with(parent)
            status = body()
        finally:
            os._exit(status)
    return pid


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when the parent dies (Linux), and leave now if it
    already has."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def _read_exact(source: io.FileIO, buffer: bytearray) -> bool:
    view, done = memoryview(buffer), 0
    while done < len(view):
        count = source.readinto(view[done:])
        if not count:
            return False
        done += count
    return True


class _Forward:
    """A member's file opened in the file maker: writes go there."""

    def __init__(self, maker: _FileMaker) -> None:
        self.maker = maker

    def write(self, data: bytes) -> None:
        self.maker.add(_APPEND, data=data)

    def close(self) -> None:
        self.maker.add(_CLOSE)


class StagingSink:
    """Creates each member's file under the staging directory: new files only, no following
    of links, parents created inside the staging directory.

    Use it as a context manager: the files are complete when the block ends without an
    error. Past the first few hundred files they are created by a child process, when this
    process can fork safely (it runs no other threads).
    """

    def __init__(self, root: Path) -> None:
        self.files = _Files(str(root))
        self.maker: _FileMaker | None = None
        self.count = 0

    def __enter__(self) -> "StagingSink":
        return self

    def __exit__(self, kind, error, trace) -> None:
        maker, self.maker = self.maker, None
        if maker is not None and kind is None:
            maker.close()
        elif maker is not None:
            maker.abort()

    def _maker(self) -> _FileMaker | None:
        self.count += 1
        if self.maker is None and self.count == _DIRECT_FILES + 1 and _can_fork():
            self.maker = _FileMaker(self.files)
        return self.maker

    def __call__(self, member: Member):
        maker = self._maker()
        if maker is None:
            return _FileWriter(self.files.open(member.path, member.mode))
        maker.add(_OPEN, member.path, member.mode)
        return _Forward(maker)

    def whole(self, member: Member, data) -> None:
        """Create the member's file with all of its content (``data`` must stay unchanged
        until the block ends)."""
        maker = self._maker()
        if maker is None:
            self.files.whole(member.path, member.mode, data)
        else:
            maker.add(_WHOLE, member.path, member.mode, data)


def _can_fork() -> bool:
    """Forking is safe only without other threads (one may hold a lock the child needs)."""
    import threading

    return hasattr(os, "fork") and threading.active_count() == 1


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


def _program(staged: Path, listed: tuple[str, str], as_ref: str | None):
    """The program of the staged bundle, checked against the manifest's ``(name, version)``
    and renamed to ``as_ref`` when given."""
    from samepack.program.samepack_format import load_samepack_yaml

    if not (staged / PROGRAM_FILE).is_file():
        raise VerificationError(f"the bundle has no {PROGRAM_FILE}",
                                hint="export it again with `samepack export program`")
    program = load_samepack_yaml(staged / PROGRAM_FILE)
    if (program.name, program.version) != listed:
        raise VerificationError(f"{PROGRAM_FILE} names {program.ref}, the manifest "
                                f"{listed[0]}:{listed[1]}")
    if as_ref:
        from samepack.program.canonical import canonical_yaml
        from samepack.store import parse_ref

        name, version = parse_ref(as_ref)
        program.name, program.version = name, version or program.version
        (staged / PROGRAM_FILE).write_text(canonical_yaml(program), encoding="utf-8")
    return program


def _place_data(staged: Path, program) -> None:
    """Data files that came in the bundle also appear where the steps look for them
    (``code/<path>``, as hard links) unless the code already holds that path."""
    if not (staged / "data").is_dir():
        return
    from samepack.bundle.data import member_for

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


def _extract(path: Path, limits: Limits, staged: Path) -> tuple[str, str]:
    """Verify the bundle while creating its files under ``staged``, then write its manifest
    there; the program's name and version as the manifest lists them."""
    with StagingSink(staged) as sink:
        verified = verify_any(path, limits, sink)
    (staged / MANIFEST_NAME).write_bytes(verified.manifest_bytes)
    return verified.manifest.name, verified.manifest.version


def _extract_aside(path: Path, limits: Limits, staged: Path) -> tuple[str, str]:
    """``_extract`` in a child process while this one loads what registering the program
    needs (jsonschema alone takes about as long as checking the manifest of 20,000 files);
    in this process when it cannot fork safely. The child dies with this process."""
    if not _can_fork():
        return _extract(path, limits, staged)
    results, report = os.pipe()

    def extract() -> int:
        os.close(results)
        try:
            outcome, status = ("ok", *_extract(path, limits, staged)), 0
        except BaseException as error:  # reported to the parent, which raises it
            outcome, status = _describe(error), 1
        _write_all(report, marshal.dumps(outcome))
        return status

    pid = _fork(extract)
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
        raise OSError(f"the process verifying the bundle ended with status {status}")
    outcome = marshal.loads(outcome)
    if outcome[0] != "ok":
        raise _revive(outcome)
    return outcome[1], outcome[2]


def _preload_registration() -> None:
    """Import the modules that load and validate the program file (with jsonschema, slow to
    import); any failure shows again where they are used."""
    with contextlib.suppress(Exception):
        import jsonschema  # noqa: F401

        import samepack.program.samepack_format  # noqa: F401


def _describe(error: BaseException) -> tuple:
    """An error of the child as plain values; ``_revive`` makes it an exception again."""
    if isinstance(error, SamepackError):
        return ("samepack", type(error).__name__, error.message, error.hint)
    if isinstance(error, OSError):
        return ("os", error.errno, error.strerror or str(error), error.filename)
    import traceback

    traceback.print_exc()  # a bug: its traceback is shown where it happened
    return ("other", f"{type(error).__name__}: {error}")


def _revive(outcome: tuple) -> BaseException:
    if outcome[0] == "samepack":
        kind = getattr(errors, outcome[1], None)
        if not (isinstance(kind, type) and issubclass(kind, SamepackError)):
            kind = SamepackError
        return kind(outcome[2], outcome[3])
    if outcome[0] == "os":
        number, text, filename = outcome[1:]
        return OSError(number, text, filename) if number else OSError(text)
    return RuntimeError(f"verifying the bundle failed: {outcome[1]}")


def _stage(path: Path, store, options: ImportOptions) -> Path:
    from samepack.program.canonical import program_digest
    from samepack.store.entry import Entry, entry_json_bytes

    clean_stale_staging(store)
    staged = store.staging_dir()
    mark = staged / f"{_MARK}{os.getpid()}"
    mark.touch()
    try:
        listed = _extract_aside(path, options.limits, staged)
        program = _program(staged, listed, options.as_ref)
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
    if not (Path(entry.path) / "metadata").is_dir():
        return 0
    from samepack.bundle.parts import RUNS, read_runs

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
    return ImportResult(entry, _restore_history(entry), _pointers(entry))


def _pointers(entry) -> list[dict]:
    """The data pointers of an imported program. Like the run history, read only when the
    bundle has that part: the parts' modules import the export machinery, slow to load."""
    if not (Path(entry.path) / "data").is_dir():
        return []
    from samepack.bundle.data import POINTERS, read_pointers

    pointers_file = Path(entry.path) / POINTERS
    return read_pointers(pointers_file.read_bytes()) if pointers_file.is_file() else []
