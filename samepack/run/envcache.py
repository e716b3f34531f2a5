"""The environment a program's steps run in: made from the program's lock on first use and
cached under ``$SAMEPACK_HOME/envs/`` by a digest of the lock, so every program with the same lock
shares one environment and a changed lock gives a new one (the model of MLflow's virtualenv
env-manager).

``--env-manager local`` runs in the current interpreter on purpose; a program with no lock gets
one warning naming the fix and the current interpreter too. The run record's lock digest is the
lock the running environment was made from (None when no lock made it).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Literal

from samepack.console import info, warn
from samepack.errors import InputError, ResourceError
from samepack.paths import samepack_home
from samepack.program.model import Program
from samepack.run.environment import interpreter_version

if TYPE_CHECKING:
    from samepack.lock.indexes import IndexOptions

EnvManager = Literal["samepack", "local"]
ENV_MANAGERS: tuple[str, ...] = ("samepack", "local")
COMPLETE = ".samepack-env.json"  # written last: an environment without it is unfinished
VERSION_RECORD = ".samepack-python.json"  # the interpreter's version, asked of it once
# samepack.envfiles.envjson.ENV_JSON, named here so that a project without one loads no reader
ENV_RECORD = Path(".samepack") / "env.json"


@dataclass(frozen=True)
class LockedEnv:
    """What a program's environment is made from."""

    kind: Literal["pip", "conda"]
    lock_file: str  # project-relative: the file the packages are installed from
    files: tuple[tuple[str, str], ...]  # (project-relative name, "sha256:...") of every lock file
    python: str | None  # the Python version the lock was made for
    # where the packages came from when it was locked: the flags given then, and the project's own
    index: "IndexOptions"

    @property
    def lock_digest(self) -> str:
        return dict(self.files)[self.lock_file]

    @property
    def key(self) -> str:
        """The cache key: the lock's files, the Python asked for and this machine's platform."""
        text = json.dumps([self.kind, self.files, self.python, sys.platform, platform.machine()])
        return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class RunEnvironment:
    """The interpreter steps run with, and where it came from (for the run record)."""

    interpreter: Path
    manager: EnvManager
    lock_digest: str | None
    prefix: Path | None = None
    # The interpreter's Python version, None for this process's own
    python_version: str | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def _hashed(path: Path) -> bool:
    """A requirements file is a lock only when every requirement carries ``--hash``."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "--hash=" in text


def locked_env(program: Program, workdir: Path) -> LockedEnv | None:
    """The program's lock, read from the project: ``.samepack/env.json`` (written by
    ``samepack package-env``, its files checked against their recorded sha256), else a hashed
    requirements file named by ``environment.lock``. None when the program has no lock."""
    if (workdir / ENV_RECORD).is_file():
        from samepack.envcreate.lockcheck import locked_index, verify_lock_files
        from samepack.envfiles.envjson import read_env_record
        from samepack.envfiles.locations import recorded_conda_lock, recorded_pip_lock
        from samepack.lock.indexes import IndexOptions

        record = read_env_record(workdir)
        verify_lock_files(workdir, record)
        conda = record.locker == "conda-lock"
        lock_file = recorded_conda_lock(record.files) if conda else recorded_pip_lock(record.files)
        if lock_file in record.files:
            return LockedEnv("conda" if conda else "pip", lock_file,
                             tuple(sorted(record.files.items())),
                             record.python or program.environment.python,
                             locked_index(record, IndexOptions.from_json(record.index)))
    lock = program.environment.lock
    if lock and (workdir / lock).is_file() and _hashed(workdir / lock):
        from samepack.lock.indexes import IndexOptions

        return LockedEnv("pip", lock, ((lock, _sha256(workdir / lock)),),
                         program.environment.python, IndexOptions())
    return None


def run_environment(program: Program, workdir: Path, manager: EnvManager = "samepack") -> RunEnvironment:
    """The environment this run's steps use (created from the lock on first use)."""
    if manager == "local":
        info(f"steps run in the current interpreter {sys.executable} (--env-manager local)")
        return RunEnvironment(Path(sys.executable), "local", None)
    if manager not in ENV_MANAGERS:
        raise InputError(f"--env-manager {manager}: not one of {', '.join(ENV_MANAGERS)}",
                         "use --env-manager samepack (the locked environment) or local")
    spec = locked_env(program, workdir)
    if spec is None:
        where = program.environment.lock or "requirements.txt"
        warn(f"{program.ref} has no lock ({where} is missing or has no hashes): steps run in "
             f"the current interpreter; run `samepack package-env` to lock the environment")
        return RunEnvironment(Path(sys.executable), "local", None)
    prefix = environment_prefix(spec)
    python = ensure_environment(spec, workdir, prefix)
    return RunEnvironment(python, "samepack", spec.lock_digest, prefix,
                          recorded_python_version(prefix, python))


def recorded_python_version(prefix: Path, python: Path) -> str:
    """The Python version of the environment's interpreter, asked of it once and kept beside
    it (``VERSION_RECORD``): starting an interpreter only to ask costs a run as long as a
    step that does nothing. The record names the file the interpreter runs (its links
    followed) by size, time and inode, so a Python upgraded in place is asked again."""
    record = prefix / VERSION_RECORD
    try:
        info = os.stat(python)
    except OSError:
        return interpreter_version(python)
    fingerprint = f"{os.path.realpath(python)}:{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"
    try:
        kept = json.loads(record.read_text(encoding="utf-8"))
        if kept.get("interpreter") == fingerprint and isinstance(kept.get("version"), str):
            return kept["version"]
    except (OSError, ValueError, AttributeError):
        pass
    version = interpreter_version(python)
    if version != "unknown":
        from samepack.envfiles.atomic import write_atomic  # once per interpreter file

        try:
            write_atomic(record, json.dumps({"interpreter": fingerprint,
                                             "version": version}) + "\n")
        except OSError:
            pass  # a read-only cache: asked again next time
    return version


def environment_prefix(spec: LockedEnv) -> Path:
    return samepack_home() / "envs" / spec.key


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One process builds an environment; others wait, then find it finished."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_environment(spec: LockedEnv, workdir: Path, prefix: Path,
                       index: "IndexOptions | None" = None) -> Path:
    """The interpreter of the cached environment at ``prefix``, made from ``spec`` if missing
    (packages from ``index`` when given, else from where the lock was made)."""
    with _exclusive(prefix.with_name(prefix.name + ".lock")):
        marker = prefix / COMPLETE
        if marker.is_file():
            python = Path(json.loads(marker.read_text(encoding="utf-8"))["python"])
            if python.is_file():
                return python
        import shutil  # an environment is made or replaced: not at a run that reuses one

        shutil.rmtree(prefix, ignore_errors=True)  # an unfinished or broken one
        started = time.monotonic()
        info(f"creating the environment from {spec.lock_file} ({_package_count(workdir, spec)} "
             f"packages) in {prefix} (first run with this lock)")
        try:
            python = _build(spec, workdir, prefix, index)
        except BaseException:
            shutil.rmtree(prefix, ignore_errors=True)
            raise
        marker.write_text(json.dumps({"python": str(python), "lock": spec.lock_file,
                                      "files": dict(spec.files)}, indent=2, sort_keys=True) + "\n",
                          encoding="utf-8")
        info(f"environment ready in {time.monotonic() - started:.1f} s")
        return python


def _package_count(workdir: Path, spec: LockedEnv) -> int:
    text = (workdir / spec.lock_file).read_text(encoding="utf-8", errors="replace")
    if spec.kind == "conda":
        return text.count("\n- name:") + text.count("\n  - name:")
    lines = (line.strip() for line in text.splitlines())
    return sum(1 for line in lines if line and not line.startswith(("#", "-", "--")))


def _build(spec: LockedEnv, workdir: Path, prefix: Path, index: "IndexOptions | None") -> Path:
    from samepack.envcreate.create import build_environment
    from samepack.envcreate.pip_env import find_python, running_python_is
    from samepack.envfiles.locations import recorded_pip_lock
    from samepack.lock.indexes import IndexOptions
    from samepack.machine import probe_machine

    index = (index or IndexOptions()).merged(spec.index)
    conda = spec.kind == "conda"
    if (not conda and spec.python and not running_python_is(spec.python)
            and find_python(spec.python) is None):
        raise ResourceError(f"the lock is for Python {spec.python}, which this machine does not have",
                            f"install Python {spec.python}, or pass --env-manager local")
    pip_lock = recorded_pip_lock(dict(spec.files)) if conda else None
    return build_environment(workdir, conda, spec.python, spec.lock_file, prefix,
                             probe_machine(workdir), index, pip_lock)
