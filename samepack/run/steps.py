"""One step as a subprocess: its command line, its environment, its output streamed with a
``[step]`` prefix (secret values masked), and stopping its whole process group on Ctrl-C."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from samepack.errors import InputError
from samepack.history.records import MetricPoint
from samepack.program.model import Step
from samepack.run.masking import mask
from samepack.program.values import as_text, substitute, substitute_words

TERMINATE_GRACE_S = 5.0


@dataclass
class StepContext:
    """Everything a step's command needs that is the same for all steps of one run."""

    run_id: str
    run_dir: Path
    workdir: Path
    params: dict[str, Any]
    datasets: dict[str, str]
    env: dict[str, str]  # the base environment: os.environ + program env + secrets + PATH
    secret_values: list[str]
    secret_steps: dict[str, list[str]] = field(default_factory=dict)  # ENV -> the steps that read it
    secret_env: list[str] = field(default_factory=list)  # the variables that hold secrets


def command_line(step: Step, ctx: StepContext) -> list[str]:
    """The argv of a step: split first, then placeholders filled per word (paths with spaces
    stay one argument). A notebook step gets the script made from its cells appended."""
    values = {"params": ctx.params, "datasets": ctx.datasets, "env": ctx.env}
    try:
        words = shlex.split(step.run)
    except ValueError as error:
        raise InputError(f"steps.{step.name}.run: {error}", "check the quoting of the command") from None
    argv = substitute_words(words, values)
    if step.notebook:
        argv.append(str(write_notebook_script(step, ctx)))
    return argv


def write_notebook_script(step: Step, ctx: StepContext) -> Path:
    from samepack.program.notebook import read_notebook, split_selector, step_script

    notebook_path, step_name = split_selector(step.notebook or "")
    notebook = read_notebook(ctx.workdir / notebook_path).data
    script = ctx.run_dir / "scripts" / f"{step.name}.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    state = notebook_state_file(ctx.run_dir, notebook_path)
    script.write_text(step_script(notebook, step_name, ctx.params, str(state)), encoding="utf-8")
    return script


def notebook_state_file(run_dir: Path, notebook_path: str) -> Path:
    """Where the last of a notebook's steps leaves its variables (see ``step_script``)."""
    return run_dir / "scripts" / f"{Path(notebook_path).stem}.state.pickle"


def discard_notebook_state(run_dir: Path) -> None:
    """Remove what carried a notebook's variables between steps (``STATE.carry``, unfinished
    ``.part`` files); the state the last step left, secrets left out, stays for inspection."""
    for pattern in ("*.state.pickle.carry*", "*.state.pickle.part"):
        for leftover in (run_dir / "scripts").glob(pattern):
            leftover.unlink(missing_ok=True)


def step_environment(step: Step, ctx: StepContext) -> dict[str, str]:
    """The base environment plus the step's own variables and the SAMEPACK_* contract."""
    values = {"params": ctx.params, "datasets": ctx.datasets, "env": ctx.env}
    env = {key: value for key, value in ctx.env.items()
           if key not in ctx.secret_steps or step.name in ctx.secret_steps[key]}
    env.update({key: substitute(value, values) for key, value in step.env.items()})
    env.update({
        "SAMEPACK_RUN_ID": ctx.run_id,
        "SAMEPACK_STEP": step.name,
        "SAMEPACK_METRICS": str(metrics_file(ctx.run_dir, step.name)),
        "SAMEPACK_ARTIFACTS": str(ctx.run_dir / "artifacts"),
    })
    if step.notebook:  # the notebook's state is saved without these variables' values
        from samepack.run.cells import cell_outputs_file  # its patterns: notebook steps only

        env["SAMEPACK_SECRET_ENV"] = ",".join(sorted(k for k in ctx.secret_env if k in env))
        outputs = cell_outputs_file(ctx.run_dir, step.name)
        outputs.parent.mkdir(parents=True, exist_ok=True)
        env["SAMEPACK_CELL_OUTPUTS"] = str(outputs)
    env.update({f"SAMEPACK_PARAM_{name.upper()}": as_text(v) for name, v in ctx.params.items()})
    env.update({f"SAMEPACK_DATASET_{name.upper()}": path for name, path in ctx.datasets.items()})
    return env


def metrics_file(run_dir: Path, step_name: str) -> Path:
    return run_dir / "metrics" / f"{step_name}.jsonl"


def read_metrics(path: Path, stage: str) -> tuple[list[tuple[str, MetricPoint]], list[str]]:
    """Metric points a step wrote (JSON lines ``{"name", "value", "step"}``) and the problems."""
    if not path.is_file():
        return [], []
    points, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            point = MetricPoint(value=float(data["value"]), step=int(data.get("step") or 0),
                                timestamp=int(data.get("timestamp") or time.time() * 1000),
                                stage=stage)
            points.append((str(data["name"]), point))
        except (ValueError, KeyError, TypeError) as error:
            problems.append(f"{path.name}:{number}: not a metric line ({error})")
    return points, problems


def stream_step(step: Step, argv: list[str], env: dict[str, str], cwd: Path,
                secrets: list[str], sink: Callable[[str], None] | None = None) -> int:
    """Run one step to completion, echoing its output as ``[name] line`` and handing each line
    (secrets masked) to ``sink``; returns the exit code. On KeyboardInterrupt the step's process
    group is terminated (then killed) and it re-raises."""
    try:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    except FileNotFoundError:
        raise InputError(f"steps.{step.name}.run: command not found: {argv[0]}",
                         "install it or fix the step's command") from None
    except PermissionError:
        raise InputError(f"steps.{step.name}.run: not executable: {argv[0]}") from None
    try:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            text = mask(raw.decode("utf-8", errors="replace").rstrip("\n"), secrets)
            sys.stdout.write(f"[{step.name}] {text}\n")
            sys.stdout.flush()
            if sink is not None:
                sink(text)
        return process.wait()
    except BaseException:
        stop_process_group(process)
        raise
    finally:
        if process.stdout:
            process.stdout.close()


def stop_process_group(process: subprocess.Popen) -> None:
    """SIGTERM the step's process group, wait a little, then SIGKILL what is left."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, TERMINATE_GRACE_S), (signal.SIGKILL, TERMINATE_GRACE_S)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
