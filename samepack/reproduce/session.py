"""Reproducing a recorded run: the side effects.

1. A bundle is imported into an isolated, temporary store (its own ``SAMEPACK_HOME``); a
   program of the local store is first exported to a temporary bundle with all its runs, so it
   takes exactly the path a bundle takes to another machine.
2. The environment is recreated from the bundle's lock (``samepack.envcreate``), or the current
   interpreter is used (``no_env``).
3. The recorded run (``run_id``, default the latest succeeded one) is re-run ``repeat`` times
   with its recorded parameters, and the results compared (``samepack.reproduce.compare``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from samepack.console import info
from samepack.errors import InputError, NotFoundError, RunFailedError
from samepack.history import History, RunRecord
from samepack.lock.indexes import IndexOptions
from samepack.program.mlproject import select_steps
from samepack.program.model import Program
from samepack.reproduce.compare import Tolerance, compare_runs
from samepack.reproduce.machines import (
    Difference, host_differences, lock_pins, package_differences,
)
from samepack.reproduce.report import ReproReport, write_report_files

LOCK_FILES = ("requirements.txt", "requirements.lock", "requirements.in", "environment.yml", "conda-lock.yml",
              "conda-lock.samepack.yml", "pylock.toml", ".samepack/env.json")
_INSTALLED = ("import importlib.metadata as m, json, platform, re; print(json.dumps({"
              "'python': platform.python_version(), 'packages': {re.sub(r'[-_.]+', '-', "
              "d.metadata['Name']).lower(): d.version for d in m.distributions() "
              "if d.metadata['Name']}}))")


@dataclass
class ReproduceOptions:
    run_id: str | None = None
    tolerance: Tolerance = field(default_factory=Tolerance)
    repeat: int = 2
    create_env: bool = True
    index: IndexOptions = field(default_factory=IndexOptions)
    ignore_resources: bool = False
    keep_store: bool = False


@dataclass
class Reproduction:
    report: ReproReport
    store: Path  # the isolated store (removed unless kept)
    rerun_dirs: list[Path]  # each re-run's directory in the isolated store


@contextmanager
def isolated_home(keep: bool) -> Iterator[Path]:
    """A fresh temporary ``SAMEPACK_HOME`` for the duration (restored afterwards)."""
    home = Path(tempfile.mkdtemp(prefix="samepack-reproduce-")).resolve()
    previous = os.environ.get("SAMEPACK_HOME")
    os.environ["SAMEPACK_HOME"] = str(home)
    try:
        yield home
    finally:
        if previous is None:
            os.environ.pop("SAMEPACK_HOME", None)
        else:
            os.environ["SAMEPACK_HOME"] = previous
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


def bundle_for(source: str, workdir: Path) -> Path:
    """``source`` as a bundle path: a bundle file or directory as is, else a program of the
    local store exported (with all its runs) into ``workdir``."""
    path = Path(source)
    if path.exists():
        return path
    if source.endswith((".tgz", ".tar.gz", ".tar.zst", ".tzst")):
        raise InputError(f"{source}: no such bundle", "give the path of an exported bundle")
    from samepack.bundle import export_bundle
    from samepack.bundle.write.export import ExportOptions
    from samepack.store import Store

    entry = Store().get(source)
    out = workdir / f"{entry.name}-{entry.version}.tgz"
    export_bundle(entry, out, ExportOptions(runs="all"))
    return out


def choose_run(history: History, name: str, version: str, run_id: str | None) -> RunRecord:
    """The run to reproduce: ``run_id`` (a unique prefix), else the latest succeeded one."""
    if run_id:
        record = history.get_run(run_id)
        if (record.program, record.version) != (name, version):
            raise NotFoundError(f"run {run_id} belongs to {record.ref}, not {name}:{version}")
        return record
    for record in history.list_runs(name, version=version):
        if record.status == "succeeded":
            return record
    raise NotFoundError(f"{name}:{version} has no succeeded run to reproduce",
                        "export the bundle with --runs last:N after a successful run")


def _with_lock_files(entry) -> None:
    """Lock files the bundle keeps under env/ copied into the code directory where missing, so
    the environment is created from exactly what was exported."""
    env_dir, workdir = Path(entry.path) / "env", Path(entry.workdir)
    for name in LOCK_FILES:
        source, target = env_dir / name, workdir / name
        if source.is_file() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def prepare_interpreter(entry, options: ReproduceOptions) -> tuple[Path, str]:
    """The interpreter the re-runs use and a sentence saying where it came from: the
    environment made from the bundle's lock (in the isolated store's environment cache, where
    the re-runs find it), or the current interpreter with ``--no-env``."""
    if not options.create_env:
        return Path(sys.executable), f"the current interpreter {sys.executable} (--no-env)"
    from samepack.run.envcache import ensure_environment, environment_prefix, locked_env

    _with_lock_files(entry)
    workdir = Path(entry.workdir)
    spec = locked_env(entry.program, workdir)
    if spec is None:
        raise InputError(f"{entry.ref}: the bundle has no lock (.samepack/env.json or a hashed "
                         "requirements file)",
                         "lock it with `samepack package-env` before exporting, or pass --no-env")
    info("recreating the environment from the lock ...")
    return (ensure_environment(spec, workdir, environment_prefix(spec), options.index),
            "recreated from the bundle's lock in a new environment")


def interpreter_facts(python: Path) -> dict:
    """Python version and installed distributions of ``python`` (one subprocess)."""
    result = subprocess.run([str(python), "-c", _INSTALLED], capture_output=True, text=True,
                            timeout=120)
    if result.returncode != 0:
        return {"python": None, "packages": {}}
    return json.loads(result.stdout)


def recorded_program(program: Program, record: RunRecord) -> tuple[Program, dict]:
    """The program as the record ran it: only the steps it ran when that was a part of the
    program (``samepack run -e NAME``), with the recorded parameters those steps take."""
    ran = [step.name for step in record.steps if step.status != "skipped"]
    if not ran or set(ran) == set(program.steps):
        return program, dict(record.params)
    part = select_steps(program, ran)
    return part, {k: v for k, v in record.params.items() if k in part.parameters}


def fresh_copy(workdir: Path, target: Path) -> Path:
    """A copy of the imported code for one re-run, so that re-runs neither see each other's
    outputs nor write into anything they did not make."""
    shutil.copytree(workdir, target, symlinks=True)
    return target


def rerun(entry, record: RunRecord, workdir: Path, options: ReproduceOptions) -> RunRecord | None:
    """One re-run with the recorded parameters in ``workdir``; None when the run failed."""
    from samepack.run.local import RunRequest, run_local

    program, params = recorded_program(entry.program, record)
    from samepack.history.mlflow_link import RUN_SCOPED

    request = RunRequest(program, workdir, params, options.ignore_resources,
                         tags={"reproduces": record.id},
                         env_manager="samepack" if options.create_env else "local",
                         tracking_uri=RUN_SCOPED)
    try:
        return run_local(request)
    except RunFailedError as error:
        info(f"re-run failed: {error.message}")
        return None


def machine_differences(record: RunRecord, here_host: dict, facts: dict,
                        workdir: Path) -> list[Difference]:
    host = dict(here_host)
    if facts.get("python"):
        host["python"] = facts["python"]
    rows = host_differences(record.host, host)
    from samepack.envfiles.envjson import read_raw
    from samepack.envfiles.locations import recorded_pip_lock

    lock = workdir / (recorded_pip_lock(read_raw(workdir).get("files") or {}) or "requirements.txt")
    if lock.is_file():
        rows += package_differences(lock_pins(lock.read_text(encoding="utf-8")),
                                    facts.get("packages", {}))
    return rows


def reproduce(source: str, options: ReproduceOptions) -> Reproduction:
    """Import, recreate, re-run and compare (see the module docstring)."""
    from samepack.bundle import import_bundle
    from samepack.run.environment import host_facts

    if options.repeat < 1:
        raise InputError(f"--repeat {options.repeat}: must be at least 1", "use --repeat 2")
    with tempfile.TemporaryDirectory(prefix="samepack-export-") as scratch:
        bundle = bundle_for(source, Path(scratch))
        with isolated_home(options.keep_store) as home:
            entry = import_bundle(bundle)
            history = History()
            try:
                record = choose_run(history, entry.name, entry.version, options.run_id)
            finally:
                history.close()
            python, environment = prepare_interpreter(entry, options)
            info(f"re-running run {record.id[:12]} of {entry.ref} {options.repeat} time(s) "
                 f"with {json.dumps(record.params, sort_keys=True)}")
            copies = [fresh_copy(Path(entry.workdir), home / "reruns" / str(n))
                      for n in range(1, options.repeat + 1)]
            reruns = [rerun(entry, record, copy, options) for copy in copies]
            done = [r for r in reruns if r is not None]
            comparison = compare_runs(record.metrics, record.artifacts,
                                      [(r.metrics, r.artifacts) for r in done], options.tolerance,
                                      failed_runs=len(reruns) - len(done))
            machine = machine_differences(record, host_facts(Path(entry.workdir)),
                                          interpreter_facts(python), Path(entry.workdir))
            report = ReproReport(program=entry.ref, source=str(source), run_id=record.id,
                                 params=record.params, tolerance=options.tolerance,
                                 environment=environment, comparison=comparison,
                                 machine=machine, reruns=[r.id for r in done])
            run_dirs = [home / "runs" / r.id for r in done]
            for run_dir in run_dirs:
                write_report_files(report, run_dir / "artifacts")
            return Reproduction(report, home, run_dirs)
