"""Parameter overrides from the command line (``--epochs=1000`` or ``--epochs 1000``), checked
against the program's declared parameters and types."""

from __future__ import annotations

from typing import Any

from samepack.errors import InputError
from samepack.program.model import Program
from samepack.program.values import coerce


def parse_overrides(args: list[str]) -> dict[str, str]:
    """``["--epochs=5", "--alpha", "0.3", "--verbose"]`` -> ``{"epochs": "5", "alpha": "0.3",
    "verbose": "true"}`` (a flag with no value means true)."""
    overrides: dict[str, str] = {}
    index = 0
    while index < len(args):
        arg = args[index]
        if not arg.startswith("--") or len(arg) == 2:
            raise InputError(f"unexpected argument {arg!r}",
                             "parameters are given as --NAME=VALUE or --NAME VALUE")
        name, has_value, value = arg[2:].partition("=")
        if not has_value:
            following = args[index + 1] if index + 1 < len(args) else None
            if following is not None and not following.startswith("--"):
                value, index = following, index + 1
            else:
                value = "true"
        overrides[name.replace("-", "_")] = value
        index += 1
    return overrides


def resolve_params(program: Program, overrides: dict[str, Any]) -> dict[str, Any]:
    """Defaults with overrides applied, each of its declared type; unknown names are errors."""
    known = program.parameters
    for name in overrides:
        if name not in known:
            listing = ", ".join(f"--{n}" for n in known) or "none"
            raise InputError(f"unknown parameter --{name} for program {program.ref}",
                             f"known parameters: {listing}")
    values: dict[str, Any] = {}
    for name, parameter in known.items():
        if name not in overrides:
            values[name] = parameter.default
            continue
        try:
            value = coerce(overrides[name], parameter.type)
        except ValueError as error:
            raise InputError(f"parameter --{name}: {error}",
                             f"--{name} takes a {parameter.type}") from None
        if parameter.choices and value not in parameter.choices:
            raise InputError(f"parameter --{name}: {value!r} is not one of {parameter.choices}",
                             f"choose one of {', '.join(map(str, parameter.choices))}")
        values[name] = value
    missing = [n for n, v in values.items() if v is None and not known[n].optional]
    if missing:
        raise InputError(f"parameter --{missing[0]} has no default and was not given",
                         f"pass --{missing[0]}=VALUE")
    return dict(sorted(values.items()))
