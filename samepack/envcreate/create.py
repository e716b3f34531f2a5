"""Recreate a project's locked environment on this machine, after checking the machine."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from samepack import progress
from samepack.console import warn
from samepack.envcreate.lockcheck import locked_index, verify_lock_files
from samepack.envcreate.hardware import (Needs, Shortfall, check_hardware, needs_from_program,
                                         needs_from_record)
from samepack.envcreate.pip_env import (find_python, lock_credentials, make_venv,
                                        running_python_is, sync_requirements, venv_python)
from samepack.envfiles.atomic import write_atomic
from samepack.envfiles.envjson import EnvRecord, read_env_record
from samepack.envfiles.locations import CONDA_LOCK, recorded_conda_lock, recorded_pip_lock
from samepack.errors import ConflictError, ResourceError, SamepackError
from samepack.lock.indexes import IndexOptions
from samepack.machine import MachineFacts, probe_machine
from samepack.paths import samepack_home

DEFAULT_PREFIX = Path(".samepack") / "env"
CREATED_JSON = Path(".samepack") / "created-env.json"  # where this machine put the env


@dataclass(frozen=True)
class CreateOptions:
    prefix: Path | None = None  # default: PROJECT/.samepack/env
    index: IndexOptions = field(default_factory=IndexOptions)
    ignore_hardware: bool = False
    extra_needs: Needs | None = None  # checked as well; default: the project's program resources


def machine_shortfalls(record: EnvRecord, facts: MachineFacts | None = None,
                       extra: Needs | None = None) -> list[Shortfall]:
    """How this machine falls short of the recorded needs (combined with ``extra``, e.g. a
    program's resources)."""
    needs = needs_from_record(record)
    if extra is not None:
        needs = needs.combined(extra)
    facts = facts or probe_machine()
    available = tuple(v for v in [needs.python] if v and (running_python_is(v) or find_python(v)))
    return check_hardware(needs, facts, available)


def program_needs(project_dir: Path) -> Needs | None:
    """What the project's program (samepack.yaml, same.yaml, ame.yaml…) asks for, if it has one."""
    from samepack.program.loader import DEFAULT_NAMES, load_program

    if not any((project_dir / name).is_file() for name in DEFAULT_NAMES):
        return None
    try:
        return needs_from_program(load_program(project_dir, show_warnings=False))
    except SamepackError as bad:
        warn(f"the program's resources are not checked: {bad.message}")
        return None


def create_environment(project_dir: Path, options: CreateOptions = CreateOptions()) -> Path:
    """Create the project's environment from its lock and return its Python interpreter
    (for a conda environment without Python, the prefix's ``bin/python`` path, absent)."""
    project_dir = project_dir.resolve()
    progress.step("checking the lock files and this machine against the lock")
    record = read_env_record(project_dir)
    verify_lock_files(project_dir, record)
    prefix = (options.prefix or project_dir / DEFAULT_PREFIX).resolve()
    facts = probe_machine(prefix)
    extra = options.extra_needs or program_needs(project_dir)
    shortfalls = machine_shortfalls(record, facts, extra)
    if shortfalls and not options.ignore_hardware:
        from samepack.elsewhere.hint import elsewhere_hint, project_program_name

        raise ResourceError("this machine falls short: " + " / ".join(s.message for s in shortfalls),
                            hint=elsewhere_hint(project_program_name(project_dir),
                                                "--ignore-hardware"))
    _check_prefix(prefix)
    created_here = not prefix.exists()
    try:
        python = _build(project_dir, record, prefix, facts, options.index)
    except BaseException:
        if created_here:
            shutil.rmtree(prefix, ignore_errors=True)
        raise
    _remember(project_dir, prefix, python, record)
    return python


def environment_python(project_dir: Path) -> Path | None:
    """The interpreter of the environment ``env create`` made for this project, if any."""
    project_dir = Path(project_dir)
    try:
        data = json.loads((project_dir / CREATED_JSON).read_text(encoding="utf-8"))
        candidate = Path(data["python"])
    except (OSError, ValueError, KeyError, TypeError):
        candidate = venv_python(project_dir / DEFAULT_PREFIX)
    return candidate if candidate.is_file() else None


def _check_prefix(prefix: Path) -> None:
    if prefix.is_dir() and any(prefix.iterdir()) and not _is_environment(prefix):
        raise ConflictError(f"--prefix {prefix}: exists and is not an environment",
                            hint="choose an empty or new directory")


def _is_environment(prefix: Path) -> bool:
    return (prefix / "pyvenv.cfg").is_file() or (prefix / "conda-meta").is_dir()


def build_environment(project_dir: Path, conda: bool, python_version: str | None, lock_file: str,
                      prefix: Path, facts: MachineFacts, index: IndexOptions,
                      pip_lock: str | None = None) -> Path:
    """Make the environment at ``prefix`` from the project's lock ``lock_file`` (a hashed
    requirements file, or ``conda-lock.yml`` with ``conda``, then the pip packages of
    ``pip_lock`` on top); returns its interpreter. Relative find-links are the project's.
    The credentials the pip lock's ``${VAR}`` references need are found first, before
    anything is made."""
    pip_file = pip_lock if conda else lock_file
    supplied = (lock_credentials(project_dir, project_dir / pip_file, index)
                if pip_file and (project_dir / pip_file).is_file() else {})
    if conda:
        return _build_conda(project_dir, project_dir / lock_file, pip_lock, prefix, facts, index,
                            supplied)
    if python_version and running_python_is(python_version):
        # This interpreter is the version the lock asks for. Named by its path, uv takes it
        # (or the interpreter its venv was made from) at once; named by its version, uv
        # searches PATH, through shims such as pyenv's: a tenth of a second per search.
        interpreter = sys.executable
    else:
        interpreter = (find_python(python_version) if python_version else None) or sys.executable
    python = make_venv(prefix, interpreter)  # sys.executable only with --ignore-hardware
    sync_requirements(python, project_dir / lock_file, index, base=project_dir, supplied=supplied)
    return python


def _build(project_dir: Path, record: EnvRecord, prefix: Path, facts: MachineFacts,
           index: IndexOptions) -> Path:
    conda = record.locker == "conda-lock"
    pip_lock = recorded_pip_lock(record.files)
    lock = (recorded_conda_lock(record.files) or CONDA_LOCK) if conda else (pip_lock or "requirements.txt")
    return build_environment(project_dir, conda, record.python, lock, prefix, facts,
                             locked_index(record, index), pip_lock)


def _build_conda(project_dir: Path, conda_lock: Path, pip_lock: str | None, prefix: Path,
                 facts: MachineFacts, index: IndexOptions, supplied: dict[str, str]) -> Path:
    from samepack.envcreate.conda_env import install_conda, locked_packages, verified_records
    from samepack.envcreate.conda_pip import check_pip_lock_beside_conda

    pip_path = project_dir / pip_lock if pip_lock else None
    if pip_path and pip_path.is_file():  # before anything is downloaded or installed
        check_pip_lock_beside_conda(pip_path, locked_packages(conda_lock, facts.platform),
                                    conda_lock.name)
    cache = samepack_home() / "cache"
    records = verified_records(conda_lock, facts.platform, cache / "conda-files")
    install_conda(records, prefix, cache / "conda-pkgs")
    python = prefix / "bin" / "python"
    if pip_path and pip_path.is_file():
        if not python.is_file():
            raise ResourceError("conda-lock.yml has pip packages but its environment has no Python",
                                hint="add python to environment.yml and lock again")
        # conda's Python packages are not in the pip lock: uv installs only what it lists
        sync_requirements(python, pip_path, index, exact=False, base=project_dir, no_deps=True,
                          supplied=supplied)
    return python


def _remember(project_dir: Path, prefix: Path, python: Path, record: EnvRecord) -> None:
    data = {"prefix": str(prefix), "python": str(python), "inputs_hash": record.inputs_hash}
    write_atomic(project_dir / CREATED_JSON, json.dumps(data, indent=2, sort_keys=True) + "\n")
