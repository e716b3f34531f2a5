"""Parameter values and step commands for the cluster: overrides checked against the program's
declared parameters, and ``{params.X}``/``{datasets.X}``/``{env.X}`` resolved inside a pod."""

from __future__ import annotations

import re
import shlex
from typing import Any

from samepack.errors import InputError
from samepack.program.model import Parameter, Program, Step
from samepack.program.values import unset_parameter_word

DATASETS_ROOT = "/datasets"
_REFERENCE = re.compile(r"\{(params|datasets|env)\.([A-Za-z0-9_.-]+)\}")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(parameter: Parameter, value: Any) -> Any:
    if not isinstance(value, str) or parameter.type in ("str", "path"):
        return value
    try:
        if parameter.type == "int":
            return int(value)
        if parameter.type == "float":
            return float(value)
    except ValueError:
        raise InputError(f"parameter {parameter.name}: '{value}' is not a {parameter.type}",
                         hint=f"pass --{parameter.name}=<{parameter.type}>") from None
    if value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise InputError(f"parameter {parameter.name}: '{value}' is not a bool",
                     hint=f"pass --{parameter.name}=true or --{parameter.name}=false")


def resolve_params(program: Program, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """The declared parameters' defaults with ``overrides`` applied, typed, sorted by name."""
    values = {name: p.default for name, p in program.parameters.items()}
    for name, value in (overrides or {}).items():
        if name not in program.parameters:
            known = ", ".join(sorted(program.parameters)) or "none"
            raise InputError(f"parameter {name}: program {program.ref} declares no such parameter",
                             hint=f"declared parameters: {known}")
        values[name] = _coerce(program.parameters[name], value)
    if program.parameters:
        for name, parameter in program.parameters.items():
            if parameter.choices and values[name] not in parameter.choices:
                raise InputError(f"parameter {name}: '{values[name]}' is not one of "
                                 f"{parameter.choices}", hint=f"pass --{name}=<one of the choices>")
    return dict(sorted(values.items()))


def dataset_mount(program: Program, name: str) -> str:
    """Where data set ``name`` is mounted in a pod."""
    return f"{DATASETS_ROOT}/{name}"


def dataset_file(program: Program, name: str) -> str:
    """The path a step sees for ``{datasets.NAME}``: the file inside the data set's volume."""
    dataset = program.datasets[name]
    basename = (dataset.path or dataset.uri or name).rstrip("/").rsplit("/", 1)[-1]
    return f"{dataset_mount(program, name)}/{basename}"


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def interpolate(program: Program, step: Step, text: str, params: dict[str, Any]) -> str:
    """``text`` with references resolved: parameters by value, data sets by their mounted path,
    environment variables as Kubernetes ``$(NAME)`` expansions."""

    def replace(match: re.Match[str]) -> str:
        section, name = match.groups()
        if section == "params" and name in params:
            return _format(params[name])
        if section == "datasets" and name in program.datasets:
            return dataset_file(program, name)
        if section == "env":
            return f"$({name})"
        raise InputError(f"steps.{step.name}.run: unknown reference {match.group(0)}",
                         hint=f"declare '{name}' under {section} in samepack.yaml")

    return _REFERENCE.sub(replace, text)


def step_command(program: Program, step: Step, params: dict[str, Any]) -> list[str]:
    """The container command of ``step``: its ``run`` split like a shell would, then resolved."""
    try:
        words = shlex.split(step.run)
    except ValueError as error:
        raise InputError(f"steps.{step.name}.run: {error}", hint="balance the quotes") from None
    if not words:
        raise InputError(f"steps.{step.name}.run: empty command", hint="give the step a command")
    return [interpolate(program, step, word, params) for word in words
            if not unset_parameter_word(word, params)]
