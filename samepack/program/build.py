"""Canonical program data (the ``samepack.yaml`` shape, already schema-valid) -> ``Program``.

Semantic checks the JSON Schema cannot express live here: parameter defaults of the declared
type, placeholders that name known parameters and datasets, ``needs`` that name known steps and
form no cycle, schedules that name known parameters and steps. Every error goes through
``locate(path, message)`` so it names the file, line and field of whatever the user wrote
(a translator maps canonical paths back to its own format's paths).
"""

from __future__ import annotations

import re
from typing import Any, Callable

from samepack.errors import InputError
from samepack.program.model import (
    Dataset, Environment, MetricPattern, Parameter, Program, Resources, Schedule, SecretRef, Step,
    topological_order,
)
from samepack.program.values import coerce, infer_type, placeholders

Locate = Callable[[tuple, str], InputError]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _resources(data: dict[str, Any] | None) -> Resources:
    data = data or {}
    cpu = data.get("cpu")
    if isinstance(cpu, str):
        cpu = float(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)
    if isinstance(cpu, float) and cpu.is_integer():
        cpu = int(cpu)
    return Resources(cpu=cpu, memory=_text(data.get("memory")), storage=_text(data.get("storage")),
                     gpus=int(data.get("gpus") or 0), vram=_text(data.get("vram")))


def _parameter(name: str, data: dict[str, Any], locate: Locate) -> Parameter:
    default = data.get("default")
    type_name = data.get("type") or infer_type(default)
    if default is not None:
        try:
            default = coerce(default, type_name)
        except ValueError as error:
            raise locate(("parameters", name, "default"), str(error)) from None
    choices = data.get("choices")
    if choices is not None:
        try:
            choices = [coerce(choice, type_name) for choice in choices]
        except ValueError as error:
            raise locate(("parameters", name, "choices"), str(error)) from None
        if default is not None and default not in choices:
            raise locate(("parameters", name, "default"), f"{default!r} is not one of {choices}")
    return Parameter(name=name, type=type_name, default=default, help=data.get("help"),
                     choices=choices, optional=data.get("optional") is True)


def _step(name: str, data: dict[str, Any], locate: Locate) -> Step:
    return Step(name=name, run=data["run"], needs=list(data.get("needs") or []),
                resources=_resources(data.get("resources")),
                env={k: _env_text(v) for k, v in (data.get("env") or {}).items()},
                image=data.get("image"), workdir=data.get("workdir"),
                notebook=data.get("notebook"),
                metrics=[_metric_pattern(item, ("steps", name, "metrics", index), locate)
                         for index, item in enumerate(data.get("metrics") or [])])


def _metric_pattern(data: dict[str, Any], where: tuple, locate: Locate) -> MetricPattern:
    """A printed-metrics pattern, checked here so that a bad one fails at load, not mid-run."""
    try:
        groups = re.compile(data["pattern"]).groupindex
    except re.error as error:
        raise locate((*where, "pattern"), f"not a valid regular expression: {error}") from None
    if "value" not in groups:
        raise locate((*where, "pattern"), "has no (?P<value>...) group for the number")
    if "name" not in groups and not data.get("name"):
        raise locate((*where, "pattern"), "has no (?P<name>...) group and the entry no 'name'")
    return MetricPattern(data["pattern"], data.get("name"))


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_placeholders(program: Program, locate: Locate) -> None:
    known = {"params": program.parameters, "datasets": program.datasets}
    for step in program.steps.values():
        texts = [(("steps", step.name, "run"), step.run)]
        texts += [(("steps", step.name, "env", key), value) for key, value in step.env.items()]
        for path, text in texts:
            for kind, ref in placeholders(text):
                if kind in known and ref not in known[kind]:
                    noun = "parameter" if kind == "params" else "dataset"
                    raise locate(path, f"unknown {noun} '{ref}' in {{{kind}.{ref}}}")


def _check_steps(program: Program, locate: Locate) -> None:
    try:
        topological_order(program.steps)
    except ValueError as error:
        field, _, message = str(error).partition(": ")
        raise locate(tuple(field.split(".")), message) from None


def _check_schedules(program: Program, locate: Locate) -> None:
    for schedule in program.schedules.values():
        for param, value in schedule.params.items():
            path = ("schedules", schedule.name, "params", param)
            if param not in program.parameters:
                raise locate(path, f"unknown parameter '{param}'")
            try:
                schedule.params[param] = coerce(value, program.parameters[param].type)
            except ValueError as error:
                raise locate(path, str(error)) from None
        for index, step in enumerate(schedule.steps or []):
            if step not in program.steps:
                raise locate(("schedules", schedule.name, "steps", index), f"unknown step '{step}'")


def _check_secrets(program: Program, locate: Locate) -> None:
    seen: set[str] = set()
    for index, secret in enumerate(program.secrets):
        if secret.env in seen:
            raise locate(("secrets", index, "env"), f"variable {secret.env} is set by two secrets")
        seen.add(secret.env)
        for number, step in enumerate(secret.steps or []):
            if step not in program.steps:
                raise locate(("secrets", index, "steps", number), f"unknown step '{step}'")


def build_program(data: dict[str, Any], locate: Locate) -> Program:
    """Build and check a Program from canonical, schema-valid data."""
    metadata = data["metadata"]
    if isinstance(metadata["version"], float):
        raise locate(("metadata", "version"), f"write the version as a string (\"{metadata['version']}\" "
                     "may not be what you meant: YAML reads 1.10 as the number 1.1)")
    env = data.get("environment") or {}
    program = Program(
        name=metadata["name"], version=str(metadata["version"]),
        description=metadata.get("description"),
        labels={k: _env_text(v) for k, v in (metadata.get("labels") or {}).items()},
        environment=Environment(python=_text(env.get("python")), lock=env.get("lock"),
                                image=env.get("image"), conda=env.get("conda")),
        resources=_resources(data.get("resources")),
        parameters={n: _parameter(n, p or {}, locate) for n, p in (data.get("parameters") or {}).items()},
        datasets={n: Dataset(name=n, **d) for n, d in (data.get("datasets") or {}).items()},
        secrets=[SecretRef(**s) for s in data.get("secrets") or []],
        env={k: _env_text(v) for k, v in (data.get("env") or {}).items()},
        steps={n: _step(n, s, locate) for n, s in data["steps"].items()},
        schedules={n: Schedule(name=n, cron=s["cron"], params=dict(s.get("params") or {}),
                               steps=s.get("steps")) for n, s in (data.get("schedules") or {}).items()},
    )
    _check_steps(program, locate)
    _check_placeholders(program, locate)
    _check_schedules(program, locate)
    _check_secrets(program, locate)
    return program
