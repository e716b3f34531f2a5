"""From what a project already says to a ``Program``: the chosen entries' steps (in order, each
needing the one before) and parameters, data sets, metric patterns for what the code prints,
resources from the hardware scan, the environment from the lock.

Pure apart from reading the project's files; every inference keeps the reason it was made, which
``samepack init`` prints.
"""

from __future__ import annotations

import ast
import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from samepack.errors import InputError
from samepack.init.chain import chain_parts
from samepack.init.datasets import FoundDataset, find_datasets
from samepack.init.entry_args import apply_entry_args
from samepack.init.entrypoints import EntryCandidate
from samepack.init.notebook_params import read_notebook_parameters
from samepack.init.part import EntryPart, Reason
from samepack.init.params import CliParam, ScriptParams, extract_parameters
from samepack.init.printed_metrics import propose_metrics
from samepack.program.model import (
    Dataset, Environment, Parameter, Program, Resources, Step,
)
from samepack.program.translate import slug
from samepack.scan.model import Scan

DEFAULT_VERSION = "0.1.0"


@dataclass
class Inference:
    program: Program
    reasons: list[Reason]
    warnings: list[str]


def _parameter(param: CliParam) -> Parameter:
    return Parameter(name=param.name, type=param.type, default=param.default, help=param.help,
                     choices=param.choices, optional=param.optional)


def _param_reasons(relative: str, found: ScriptParams) -> tuple[list[Reason], list[str]]:
    reasons = []
    for p in found.passed:
        how = {"switch": f"switch, passed as one of {p.choices}", "positional": "positional"}.get(
            p.kind, p.flag or "")
        if p.optional:
            how += "; optional: left out of the command while unset"
        reasons.append(Reason(f"parameter {p.name}", f"{p.type} = {p.default!r}",
                              f"{relative}:{p.line} {found.framework} ({how})"))
    warnings = [f"{relative}: {note}" for note in found.messages()]
    warnings += [f"{relative}:{p.line}: parameter '{p.name}' is required and has no default; "
                 f"give --{p.name}=VALUE to `samepack run`" for p in found.passed
                 if p.required and p.default is None]
    return reasons, warnings


def _docstring(source: str) -> str | None:
    try:
        text = ast.get_docstring(ast.parse(source))
    except (SyntaxError, ValueError):
        return None
    return text.strip().splitlines()[0].strip() if text and text.strip() else None


def metric_patterns(step: Step, sources: list[tuple[str, str]]) -> list[Reason]:
    """Give ``step`` a metric pattern for each ``name: value`` line its code prints."""
    reasons = []
    for relative, source in sources:
        for proposed in propose_metrics(source):
            step.metrics.append(proposed.metric)
            name = proposed.metric.name or "the name printed"
            reasons.append(Reason(f"steps.{step.name}.metrics", proposed.metric.pattern,
                                  f"{relative}:{proposed.line} prints `{proposed.text}`: each "
                                  f"number printed there becomes a point of metric '{name}'"))
    return reasons


def _no_args(entry: EntryCandidate) -> None:
    if entry.args:
        raise InputError(f"--entry {entry.path}: arguments ({' '.join(entry.args)}) are taken only "
                         f"with a script entry", "set the entry's parameters with `samepack run "
                         "--NAME=VALUE`, or remove the arguments")


def script_part(root: Path, entry: EntryCandidate) -> EntryPart:
    source = (root / entry.path).read_text(encoding="utf-8")
    found = extract_parameters(source, entry.path)
    applied = apply_entry_args(found.passed, list(entry.args))
    run = " ".join(["python", entry.path, *(shlex.quote(word) for word in applied.literal),
                    *(p.cli_fragment() for p in found.passed)])
    step = Step(name=slug(entry.name), run=run)
    reasons, warnings = _param_reasons(entry.path, found)
    why = entry.reason + (f"; `{' '.join(entry.args)}` given with --entry" if entry.args else "")
    reasons.insert(0, Reason(f"step {step.name}", run, why))
    reasons += [Reason(f"parameter {name}", f"default {value!r}", "given with --entry")
                for name, value in applied.defaults]
    reasons += metric_patterns(step, [(entry.path, source)])
    return EntryPart(steps={step.name: step},
                     parameters={p.name: _parameter(p) for p in found.passed},
                     code=[(entry.path, source)], description=_docstring(source),
                     reasons=reasons, warnings=warnings)


def _notebook_code(cells: list[Any], indexes: Sequence[int] | None = None) -> str:
    """The code of a notebook's code cells (those at ``indexes``), magics left out."""
    from samepack.program.notebook import MAGIC, cell_source

    chosen = cells if indexes is None else [cells[index] for index in indexes]
    lines = [line for cell in chosen if cell.get("cell_type") == "code"
             for line in cell_source(cell).splitlines() if not MAGIC.match(line)]
    return "\n".join(lines) + "\n"


def notebook_part(root: Path, entry: EntryCandidate) -> EntryPart:
    from samepack.program.notebook import notebook_steps

    _no_args(entry)
    path = root / entry.path
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = notebook.get("cells") or []
    found = read_notebook_parameters(path)
    steps: dict[str, Step] = {}
    metric_reasons: list[Reason] = []
    previous: str | None = None
    found_steps = notebook_steps(notebook)
    for nb_step in found_steps:
        name = slug(entry.name) if len(found_steps) == 1 else slug(nb_step.name)
        steps[name] = Step(name=name, run="python", notebook=f"{entry.path}#{nb_step.name}",
                           needs=[previous] if previous else [])
        metric_reasons += metric_patterns(steps[name],
                                          [(entry.path, _notebook_code(cells, nb_step.cells))])
        previous = name
    reasons, warnings = _param_reasons(entry.path, found)
    reasons.insert(0, Reason("steps", ", ".join(steps), entry.reason +
                             "; its code cells run as a script with the parameters injected"))
    return EntryPart(steps=steps, parameters={p.name: _parameter(p) for p in found.passed},
                     code=[(entry.path, _notebook_code(cells))],
                     reasons=reasons + metric_reasons, warnings=warnings)


def mlproject_part(root: Path, entry: EntryCandidate) -> EntryPart:
    from samepack.program.mlproject import SEVERAL_ENTRY_POINTS, load_mlproject
    from samepack.program.values import placeholders

    _no_args(entry)
    program = load_mlproject(root / "MLproject")
    step = program.steps[slug(entry.name)]
    used = [name for kind, name in placeholders(step.run) if kind == "params"]
    parameters = {name: program.parameters[name] for name in dict.fromkeys(used)}
    code: list[tuple[str, str]] = []
    for word in step.run.split():
        if word.endswith(".py") and (root / word).is_file():
            code.append((word, (root / word).read_text(encoding="utf-8")))
    data_paths = [(str(p.default), f"MLproject: parameters.{p.name}")
                  for p in parameters.values() if p.type == "path" and p.default]
    reasons = [Reason(f"step {step.name}", step.run, entry.reason)]
    reasons += [Reason(f"parameter {p.name}", f"{p.type} = {p.default!r}",
                       f"MLproject entry point '{entry.name}'") for p in parameters.values()]
    reasons += metric_patterns(step, code)
    return EntryPart(steps={step.name: step}, parameters=parameters, code=code,
                     data_paths=data_paths, environment=program.environment,
                     name=(program.name, "the MLproject's name"), reasons=reasons,
                     warnings=[w for w in program.warnings if SEVERAL_ENTRY_POINTS not in w])


def entry_part(root: Path, entry: EntryCandidate) -> EntryPart:
    builders = {"script": script_part, "notebook": notebook_part, "mlproject": mlproject_part}
    return builders[entry.kind](root, entry)


def infer_resources(scan: Scan | None) -> tuple[Resources, list[Reason]]:
    if scan is None or not scan.hardware.gpu:
        return Resources(), []
    evidence = ", ".join(str(e) for e in scan.hardware.evidence[:3]) or "the hardware scan"
    note = " (multi-GPU code found; raise gpus to use more)" if scan.hardware.multi_gpu else ""
    return Resources(gpus=1), [Reason("resources.gpus", "1", f"GPU use at {evidence}{note}")]


def _env_record(root: Path) -> dict[str, Any]:
    try:
        return json.loads((root / ".samepack" / "env.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def infer_environment(root: Path, scan: Scan | None, declared: Environment,
                      running_python: str) -> tuple[Environment, list[Reason]]:
    reasons: list[Reason] = []
    env = Environment(python=declared.python, lock=declared.lock, image=declared.image,
                      conda=declared.conda)
    if env.python:
        reasons.append(Reason("environment.python", env.python, "the MLproject environment"))
    elif scan is not None and scan.python.version and scan.python.version[:1].isdigit():
        env.python = scan.python.version
        where = ", ".join(str(e) for e in scan.python.evidence[:2]) or "the scan"
        reasons.append(Reason("environment.python", env.python, f"declared at {where}"))
    else:
        env.python = running_python
        reasons.append(Reason("environment.python", env.python, "the running Python (nothing "
                                                                "in the project declares one)"))
    record = _env_record(root)
    if not env.lock and (root / "requirements.txt").is_file():
        env.lock = "requirements.txt"
        why = "written by `samepack package-env`" if record else \
            "the project's requirements.txt (run `samepack package-env` to pin and hash it)"
        reasons.append(Reason("environment.lock", env.lock, why))
    if not env.conda and scan is not None and scan.conda_environment:
        env.conda = scan.conda_environment
        reasons.append(Reason("environment.conda", env.conda, "a conda environment file"))
    return env, reasons


def _dataset(found: FoundDataset) -> Dataset:
    return Dataset(name=found.name, path=found.path, sha256=found.sha256, size=found.size,
                   media_type=found.media_type)


def infer_program(root: Path, entries: Sequence[EntryCandidate], scan: Scan | None,
                  running_python: str, name: str | None = None,
                  version: str | None = None) -> Inference:
    """The program for ``entries`` in ``root``, run in that order (see the module docstring)."""
    part = chain_parts([entry_part(root, entry) for entry in entries])
    found = find_datasets(root, part.code, part.data_paths)
    resources, resource_reasons = infer_resources(scan)
    environment, env_reasons = infer_environment(root, scan, part.environment, running_python)
    named, why = (name, "--name") if name else part.name or (root.resolve().name,
                                                             "the project directory's name")
    program_name = slug(named)
    reasons = [Reason("metadata.name", program_name, why)]
    reasons += part.reasons + env_reasons + resource_reasons
    reasons += [Reason(f"dataset {d.name}", f"{d.path} ({d.size} bytes)",
                       f"read at {d.evidence}") for d in found]
    program = Program(name=program_name, version=version or DEFAULT_VERSION, steps=part.steps,
                      description=part.description, environment=environment,
                      resources=resources, parameters=part.parameters,
                      datasets={d.name: _dataset(d) for d in found}, source_format="samepack")
    return Inference(program=program, reasons=reasons, warnings=part.warnings)
