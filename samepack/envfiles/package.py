"""``package-env`` as functions: scan → inputs → lock → plan → write, and the drift check."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from samepack import progress
from samepack.envfiles.accelerators import accelerator_index
from samepack.envfiles.atomic import is_generated
from samepack.envfiles.drift import drift
from samepack.envfiles.envjson import EnvRecord, read_env_record
from samepack.envfiles.indexes import project_index
from samepack.envfiles.inputs import LockInputs
from samepack.envfiles.locations import CONDA_LOCK, DEFAULT_LOCK, conda_lock_name, pip_lock_name
from samepack.envfiles.plan import (PlannedFile, check_conflicts, lock_file_names, plan_files,
                                    write_planned)
from samepack.envfiles.program_lock import program_lock_update
from samepack.envfiles.project import (EnvOptions, lock_inputs, lock_request, locker_choice,
                                       scan_for_lock)
from samepack.errors import DriftError, LockError, NotFoundError, RemoteError
from samepack.lock.base import LockerChoice, get_locker
from samepack.lock.compile import HEADER
from samepack.lock.credentials import credential_names
from samepack.lock.index_lines import credential_free, index_urls, lock_index, with_option_lines
from samepack.lock.indexes import IndexOptions
from samepack.lock.model import LockRequest, LockResult
from samepack.scan.model import Scan

Scanner = Callable[[Path, str | None], Scan]


@dataclass
class PackageReport:
    root: Path
    files: list[PlannedFile]
    choice: LockerChoice
    inputs: LockInputs
    result: LockResult
    kept: tuple[str, ...] = ()  # the earlier locks' pins handed to the resolver


def package_env(root: Path, options: EnvOptions, scanner: Scanner = scan_for_lock,
                write: bool = True) -> PackageReport:
    """Lock the project at ``root`` and write its environment files (unless ``write`` is off)."""
    root = root.resolve()
    progress.step(f"scanning {root} for what it imports and declares")
    scan = scanner(root, options.python)
    choice = locker_choice(scan, root, options)
    if choice.name == "uv" and is_generated(root / "pylock.toml"):
        options = replace(options, pylock=True)  # keep a pylock.toml we wrote up to date
    pip_lock = pip_lock_name(root, options.force)
    declared = project_index(scan, root)
    try:
        inputs, request, result, used = _lock(root, scan, options, choice, pip_lock, declared)
    except RemoteError as unreachable:
        if choice.name != "conda-lock" or choice.source != "auto":
            raise
        choice = LockerChoice("uv", "auto")  # every package it names may be on PyPI
        why = f"no conda channel could be reached ({unreachable.message})"
        progress.step("no conda channel answered: locking the PyPI equivalents instead")
        inputs, request, result, used = _lock(root, scan, options, choice, pip_lock, declared,
                                              why)
    planned = plan_files(root, scan, inputs, result, choice, options.force, options.from_env,
                         index_record(options, used))
    program = program_lock_update(root, pip_lock if pip_lock in result.files else None)
    if program:
        planned.insert(-1, program)
    if write:
        progress.step("writing the environment files")
        write_planned(root, planned)
    return PackageReport(root, planned, choice, inputs, result, request.preferences)


def _lock(root: Path, scan: Scan, options: EnvOptions, choice: LockerChoice, pip_lock: str,
          declared: IndexOptions, why_pypi: str | None = None
          ) -> tuple[LockInputs, LockRequest, LockResult, IndexOptions]:
    """One lock with one locker; also returns the index options beyond the flags that it
    used (the project's own, and the PyTorch build index chosen for it)."""
    inputs = lock_inputs(scan, root, options, choice, why_pypi=why_pypi)
    conda_lock = conda_lock_name(root, options.force)
    check_conflicts(root, lock_file_names(choice, inputs, options.pylock, pip_lock, conda_lock),
                    options.force)
    used, why = project_places(inputs, options.index, declared)
    if why:
        inputs.notes.append(why)
    request = lock_request(inputs, options, root, options.index.over(used))
    try:
        result = get_locker(choice.name).lock(request)
    except LockError as failed:
        raise blame_inferred(failed, scan, inputs) from failed
    result = with_lock_name(result, pip_lock, conda_lock)
    if pip_lock in result.files:
        # every place the project names, also those --no-index kept from being asked here:
        # the lock is installed elsewhere, where they answer
        emitted = lock_index(options.index.merged(used), root, pip_lock,
                             credential_names(index_urls(options.index, used)))
        inputs.notes.extend(emitted.notes)
        result = replace(result, files={**result.files, pip_lock: with_option_lines(
            result.files[pip_lock], emitted.lines, HEADER)})
    return inputs, request, result, used


def blame_inferred(failed: LockError, scan: Scan, inputs: LockInputs) -> LockError:
    """A lock that fails on a name the scan only guessed from an import (nothing declares
    it) says so, and names the ``[tool.samepack.mapping]`` fix."""
    locked = {r.name for r in inputs.requirements}
    declared = {d.name for d in scan.declared}
    text = failed.message.lower().replace("_", "-")
    for finding in scan.imports:
        name = finding.distribution
        if (finding.mapping_source != "identity" or not name or name in declared
                or name not in locked or not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text)):
            continue
        where = finding.evidence[0] if finding.evidence else "the code"
        return LockError(
            f"{failed.message} ({name} was inferred from `import {finding.module}` at {where}; "
            "nothing declares it)",
            hint=f"if {finding.module} comes from another distribution, map it in pyproject.toml: "
                 f"[tool.samepack.mapping] {finding.module} = \"DISTRIBUTION\" "
                 f"(or \"\" when it is the project's own or no dependency)")
    return failed


def index_record(options: EnvOptions, declared: IndexOptions) -> dict:
    """What env.json keeps of the index: the flags given, and (relative, portable) what the
    project's files declare, which ``env create`` uses again; credentials as ``${VAR}``, named
    as the lock names them (the flags' and the files' URLs together)."""
    names = credential_names(index_urls(options.index, declared))
    record = {**credential_free(options.index, names)[0].to_json(),
              "channels": list(options.channels)}
    if declared != IndexOptions():
        record["project"] = credential_free(declared, names)[0].to_json()
    return record


def with_lock_name(result: LockResult, pip_lock: str, conda_lock: str = CONDA_LOCK) -> LockResult:
    """The lockers write ``requirements.txt`` and ``conda-lock.yml``; they go to ``pip_lock``
    and ``conda_lock`` in the project."""
    names = {DEFAULT_LOCK: pip_lock, CONDA_LOCK: conda_lock}
    if all(names.get(name, name) == name for name in result.files):
        return result
    return replace(result, files={names.get(name, name): text for name, text in result.files.items()})


def check_env(root: Path, options: EnvOptions, scanner: Scanner = scan_for_lock) -> list[str]:
    """The differences between the recorded lock and the project (empty = up to date)."""
    root = root.resolve()
    try:
        record = read_env_record(root)
    except NotFoundError as missing:
        raise DriftError(missing.message, hint=missing.hint) from missing
    scan = scanner(root, options.python or record.python)
    choice = locker_choice(scan, root, EnvOptions(locker=options.locker or record.locker))
    if not options.channels and record.index.get("channels"):  # --channel used when locking
        options = replace(options, channels=tuple(record.index["channels"]))
    inputs = lock_inputs(scan, root, options, choice, recorded=record)
    return drift(root, record, inputs, _project_index_now(scan, root, inputs, record))


def _project_index_now(scan: Scan, root: Path, inputs: LockInputs,
                       record: EnvRecord) -> dict | None:
    """What a lock made now would record (and write into the lock) as the project's index:
    its files' options and the PyTorch build index, given the flags it was locked with (whose
    recorded ``${VAR}`` references take part in naming the files' credentials, as the flags'
    literal credentials did when the lock was made)."""
    flags = IndexOptions.from_json(record.index)
    used, _ = project_places(inputs, flags, project_index(scan, root))
    if used == IndexOptions():
        return None
    return credential_free(used, credential_names(index_urls(flags, used)))[0].to_json()


def project_places(inputs: LockInputs, flags: IndexOptions, declared: IndexOptions
                   ) -> tuple[IndexOptions, str | None]:
    """The index options beyond the flags that a lock uses: what the project's files declare
    and the PyTorch build index chosen for its hardware (with why it was chosen)."""
    build, why = accelerator_index(inputs.requirements, inputs.hardware, flags, declared)
    return declared.merged(build), why
