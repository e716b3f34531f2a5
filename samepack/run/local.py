"""Run a program on this machine: check parameters, secrets, resources and data first, then run
the steps as subprocesses in dependency order and record everything in the run history.

A failed step skips the steps that need it (others still run) and the run fails
(RunFailedError). Ctrl-C or SIGTERM stops the running step's process group and records the run
as cancelled (CancelledError, exit code 130).
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from samepack.console import info, warn
from samepack.errors import (
    CancelledError, InputError, ResourceError, RunFailedError, SamepackError,
)
from samepack.history import History, RunRecord
from samepack.history.files import file_listing
from samepack.history.mlflow_link import link_mlflow
from samepack.history.records import utc_now
from samepack.machine import probe_machine
from samepack.paths import samepack_home
from samepack.program.model import Program, Step, topological_order
import samepack.run.environment as envs
from samepack.run.datasets import resolve_datasets
from samepack.run.envcache import EnvManager, run_environment
from samepack.run.outputs import Listing, changed_files, list_workdir
from samepack.run.params import resolve_params
from samepack.run.preflight import shortfalls
from samepack.run.printed import StepOutput
from samepack.run.steps import (
    StepContext, command_line, discard_notebook_state, metrics_file, read_metrics,
    step_environment, stream_step,
)

# Fixed unless the program sets them, so that re-runs hash, seed and date their files alike.
REPRODUCIBLE_DEFAULTS = {"PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": "315532800"}  # 1980-01-01


@dataclass
class RunRequest:
    """What to run: the program, where, with which overrides, tags and environment."""

    program: Program
    workdir: Path
    overrides: dict[str, Any] = field(default_factory=dict)
    ignore_resources: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    env_manager: EnvManager = "samepack"  # "local": the current interpreter, on purpose
    tracking_uri: str | None = None  # MLflow: else SAMEPACK_TRACKING_URI, MLFLOW_TRACKING_URI


def secret_values(program: Program) -> dict[str, str]:
    """``{ENV: value}`` of every secret, from this process's environment; missing is an error."""
    values: dict[str, str] = {}
    for secret in program.secrets:
        value = os.environ.get(secret.env)
        if not value:
            raise InputError(f"secret '{secret.name}' is not set: the program reads it from "
                             f"${secret.env}", f"export {secret.env}=... before running")
        values[secret.env] = value
    return values


def preflight(program: Program, workdir: Path, ignore: bool) -> None:
    problems = shortfalls(program, probe_machine(workdir))
    if problems and not ignore:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        from samepack.elsewhere.hint import elsewhere_hint

        raise ResourceError(problems[0] + more, elsewhere_hint(program.name, "--ignore-resources"))
    for problem in problems:
        warn(problem)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while a run is in progress (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Runner:
    def __init__(self, request: RunRequest, history: History) -> None:
        self.request, self.history = request, history
        self.program = request.program
        self.failed: dict[str, str] = {}  # step -> "failed" | "skipped" | "cancelled"
        self.before: Listing | None = None  # the working directory before the first step
        self.cells: list[dict[str, Any]] = []  # what notebook steps' cells printed

    def prepare(self) -> StepContext:
        program, workdir = self.program, self.request.workdir
        params = resolve_params(program, self.request.overrides)
        secrets = secret_values(program)
        preflight(program, workdir, self.request.ignore_resources)
        datasets = resolve_datasets(program, workdir, samepack_home() / "cache" / "datasets")
        environment = run_environment(program, workdir, self.request.env_manager)
        interpreter = environment.interpreter
        commit, dirty = envs.git_state(workdir)
        tags = dict(self.request.tags)
        if environment.manager == "local":
            tags["env_manager"] = "local"
        run_id = self.history.start_run(
            program.name, program.version, params, lock_digest=environment.lock_digest,
            git_commit=commit, git_dirty=dirty,
            host=envs.host_facts(workdir, environment.python_version), tags=tags)
        run_dir = samepack_home() / "runs" / run_id
        (run_dir / "artifacts").mkdir(parents=True)
        (run_dir / "metrics").mkdir()
        env = {**os.environ, **REPRODUCIBLE_DEFAULTS, **program.env, **secrets}
        env["PATH"] = envs.step_path(envs.prepare_bin(run_dir, interpreter), interpreter)
        env["PYTHONPATH"] = envs.project_path(workdir, os.environ.get("PYTHONPATH"))
        if interpreter != Path(sys.executable):
            env.pop("VIRTUAL_ENV", None)  # the project's own environment, not samepack's
        self.before = list_workdir(workdir)
        self.mlflow = link_mlflow(env, run_dir, self.request.tracking_uri)
        scoped = {s.env: s.steps for s in program.secrets if s.steps is not None}
        return StepContext(run_id, run_dir, workdir, params, datasets, env, list(secrets.values()),
                           scoped, secret_env=list(secrets))

    def run_step(self, name: str, ctx: StepContext) -> None:
        step = self.program.steps[name]
        blocked = [need for need in step.needs if need in self.failed]
        if blocked:
            self.failed[name] = "skipped"
            warn(f"step {name} skipped: {blocked[0]} did not succeed")
            self.history.record_step(ctx.run_id, name, None, None, None, "skipped")
            return
        started, clock = utc_now(), time.monotonic()
        output = StepOutput(name, ctx.run_dir / "logs" / f"{name}.log", step.metrics)
        try:
            code = self._start(step, ctx, output)
        except KeyboardInterrupt:
            self.failed[name] = "cancelled"
            self._finish_step(ctx, name, None, started, clock, "cancelled", output)
            raise
        except SamepackError as error:  # the step could not start (command not found, …)
            warn(f"step {name}: {error.message}")
            output.line(f"samepack: {error.message}")
            code = None
        if code != 0:
            self.failed[name] = "failed"
        self._finish_step(ctx, name, code, started, clock, "succeeded" if code == 0 else "failed",
                          output)

    def _start(self, step: Step, ctx: StepContext, output: StepOutput) -> int:
        argv = command_line(step, ctx)
        shown = shlex.join(argv)
        for value in ctx.secret_values:
            shown = shown.replace(value, "***")
        info(f"step {step.name}: {shown}")
        cwd = ctx.workdir / step.workdir if step.workdir else ctx.workdir
        return stream_step(step, argv, step_environment(step, ctx), cwd, ctx.secret_values,
                           output.line)

    def _finish_step(self, ctx: StepContext, name: str, code: int | None, started: str,
                     clock: float, status: str, output: StepOutput) -> None:
        tail = output.close()
        notebook = self.program.steps[name].notebook
        if notebook:
            from samepack.program.notebook import split_selector
            from samepack.run.cells import cell_outputs_file, cell_records

            self.cells += cell_records(cell_outputs_file(ctx.run_dir, name),
                                       split_selector(notebook)[0], ctx.secret_values)
        points, problems = read_metrics(metrics_file(ctx.run_dir, name), name)
        for problem in problems:
            warn(f"step {name}: {problem}")
        self.history.log_metrics(ctx.run_id, output.points + points)
        self.mlflow.collect(self.history, ctx.run_id, name,
                            ctx.workdir / (self.program.steps[name].workdir or ""), started)
        self.history.record_step(ctx.run_id, name, code, started,
                                 round(time.monotonic() - clock, 3), status, tail)

    def run(self) -> RunRecord:
        with sigterm_as_interrupt():
            ctx = self.prepare()
            info(f"run {ctx.run_id} of {self.program.ref} started")
            try:
                for name in topological_order(self.program.steps):
                    self.run_step(name, ctx)
            except KeyboardInterrupt:
                self._close(ctx, "cancelled")
                raise CancelledError(f"run {ctx.run_id} cancelled",
                                     f"see samepack runs show {ctx.run_id[:8]}") from None
            except BaseException:
                self._close(ctx, "failed")
                raise
            self._close(ctx, "failed" if self.failed else "succeeded")
        record = self.history.get_run(ctx.run_id)
        if self.failed:
            raise RunFailedError(_failure_message(record), f"see samepack runs show {ctx.run_id[:8]}")
        return record

    def _close(self, ctx: StepContext, status: str) -> None:
        """Record the steps that never ran as skipped, then the run's end."""
        discard_notebook_state(ctx.run_dir)
        recorded = {s.name for s in self.history.get_run(ctx.run_id).steps}
        for name in topological_order(self.program.steps):
            if name not in recorded:
                self.history.record_step(ctx.run_id, name, None, None, None, "skipped")
        artifacts = file_listing(ctx.run_dir / "artifacts") + self.cells
        if self.before is not None:
            artifacts += changed_files(ctx.workdir, self.before, list_workdir(ctx.workdir))
        self.history.finish_run(ctx.run_id, status, artifacts)
        self.mlflow.publish(self.history, ctx.run_id)


def _failure_message(record: RunRecord) -> str:
    failed = [s for s in record.steps if s.status == "failed"]
    skipped = [s.name for s in record.steps if s.status == "skipped"]
    text = f"run {record.id} failed: " + ", ".join(
        f"step {s.name} exited with code {s.exit_code}" if s.exit_code is not None
        else f"step {s.name} could not start" for s in failed)
    return text + (f"; skipped: {', '.join(skipped)}" if skipped else "")


def run_local(request: RunRequest, history: History | None = None) -> RunRecord:
    """Run ``request.program`` here; returns the finished run's record."""
    own = history is None
    history = history or History()
    try:
        return _Runner(request, history).run()
    finally:
        if own:
            history.close()
