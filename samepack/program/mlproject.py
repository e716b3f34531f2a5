"""MLflow's ``MLproject`` -> Program.

An MLproject has ``name``, one of ``python_env`` / ``conda_env`` / ``docker_env``, and
``entry_points: {NAME: {parameters: {P: TYPE | {type, default}}, command}}``. Each entry point
becomes one step of the same name; ``samepack run -e NAME`` runs just that one (MLflow runs
``main`` by default). Parameters are program-wide in samepack, so entry points' parameters are
merged: the same name with the same type is one parameter (the first default wins, differing
defaults are warned about); the same name with another type becomes ``<entry>_<name>``.
``{P}`` placeholders in commands become ``{params.P}``.

Types: ``float``, ``int``, ``string`` -> ``str``, ``path`` -> ``path``, ``uri`` -> ``str``.
Environments: ``python_env`` gives ``environment.python`` (its dependencies are not installed
by samepack: lock them with ``samepack package-env``); ``conda_env`` gives ``environment.conda``;
``docker_env.image`` gives ``environment.image`` (volumes and run arguments are not honoured).
MLflow runs commands through a shell; samepack splits them with shlex, so shell syntax in a
command is warned about.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from samepack.program.model import Program
from samepack.program.translate import Translation, slug
from samepack.program.yamlsource import Source, read_yaml

MLPROJECT_TYPES = {"float": "float", "int": "int", "integer": "int", "string": "str", "str": "str",
                   "path": "path", "uri": "str"}
SEVERAL_ENTRY_POINTS = ("each entry point is a step; `samepack run -e NAME` runs one "
                        "(MLflow runs 'main' by default)")
TOP_KEYS = {"name", "python_env", "conda_env", "docker_env", "entry_points"}
_BRACED = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_\-]*)\}(?!\})")
_SHELL = re.compile(r"(&&|\|\||[|;<>`]|\$\(|\$[A-Za-z_{])")


def is_mlproject(path: Path, source: Source | None) -> bool:
    """A file named MLproject (any case of the suffix-less name) or a mapping with entry_points."""
    if path.name.lower() == "mlproject":
        return True
    data = source.data if source else None
    return isinstance(data, dict) and "entry_points" in data and "kind" not in data


def mlproject_entry_points(path: Path) -> list[str]:
    """The entry-point names an MLproject declares, in file order (empty if unreadable)."""
    try:
        data = read_yaml(path).data
    except Exception:  # a broken MLproject is reported when it is loaded, not while looking
        return []
    points = data.get("entry_points") if isinstance(data, dict) else None
    return [str(name) for name in points] if isinstance(points, dict) else []


def _parameter(t: Translation, path: tuple, spec: Any) -> dict[str, Any]:
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict):
        raise t.error(path, "expected a type name or {type, default}")
    t.ignore_unknown(path, spec, {"type", "default"})
    declared = str(spec.get("type", "string")).lower()
    if declared not in MLPROJECT_TYPES:
        raise t.error(path + ("type",), f"unknown type {declared!r}",
                      "MLproject types are float, int, string, path and uri")
    if declared == "uri":
        t.warn(path + ("type",), "uri parameters are passed as text; samepack does not fetch them")
    return {"type": MLPROJECT_TYPES[declared], "default": spec.get("default")}


def _merge(t: Translation, params: dict[str, Any], entry: str, name: str,
           param: dict[str, Any], path: tuple) -> str:
    """Add ``param`` under ``name`` (or ``<entry>_<name>`` on a type clash); the name used."""
    existing = params.get(name)
    if existing is None:
        params[name] = param
        t.at(("parameters", name), path)
        return name
    if existing["type"] != param["type"]:
        renamed = f"{entry}_{name}"
        t.warn(path, f"also declared with type {existing['type']}; this one is '{renamed}'")
        params[renamed] = param
        t.at(("parameters", renamed), path)
        return renamed
    if existing["default"] is None:
        existing["default"] = param["default"]
    elif param["default"] is not None and param["default"] != existing["default"]:
        t.warn(path + ("default",), f"differs from the default {existing['default']!r} declared "
                                    "earlier; samepack parameters are program-wide, the first wins")
    return name


def _command(t: Translation, path: tuple, command: Any, names: dict[str, str]) -> str:
    if not isinstance(command, str) or not command.strip():
        raise t.error(path, "command is required (a string)")

    def replace(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            raise t.error(path, f"unknown parameter '{match.group(1)}' in {{{match.group(1)}}}",
                          "declare it under this entry point's parameters")
        return f"{{params.{names[match.group(1)]}}}"

    if _SHELL.search(command):
        t.warn(path, "shell syntax is not interpreted: samepack runs the command without a shell")
    return " ".join(_BRACED.sub(replace, command).replace("{{", "{").replace("}}", "}").split())


def _entry_points(t: Translation, params: dict[str, Any]) -> dict[str, Any]:
    points = t.expect(("entry_points",), dict, "a mapping of entry points", required=True)
    if not points:
        raise t.error(("entry_points",), "at least one entry point is required")
    steps: dict[str, Any] = {}
    for entry, spec in points.items():
        path = ("entry_points", entry)
        if not isinstance(spec, dict):
            raise t.error(path, "expected a mapping with parameters and command")
        t.ignore_unknown(path, spec, {"parameters", "command"})
        names: dict[str, str] = {}
        declared = t.expect(path + ("parameters",), dict, "a mapping of parameters") or {}
        for name, param_spec in declared.items():
            param = _parameter(t, path + ("parameters", name), param_spec)
            names[str(name)] = _merge(t, params, str(entry), str(name).replace("-", "_"), param,
                                      path + ("parameters", name))
        step_name = slug(str(entry))
        steps[step_name] = {"run": _command(t, path + ("command",), spec.get("command"), names)}
        t.at(("steps", step_name), path)
    return steps


def _python_env(t: Translation, base: Path, reference: str) -> dict[str, Any]:
    env_path = base / reference
    if not env_path.is_file():
        raise t.error(("python_env",), f"{reference} does not exist",
                      "python_env names a YAML file beside MLproject")
    data = read_yaml(env_path).data or {}
    environment: dict[str, Any] = {}
    if isinstance(data, dict) and data.get("python") is not None:
        environment["python"] = str(data["python"])
    if isinstance(data, dict) and (data.get("dependencies") or data.get("build_dependencies")):
        t.warn(("python_env",), f"{reference} lists dependencies that samepack does not install "
                                "as they are; lock them with `samepack package-env`")
    if (base / "requirements.txt").is_file():
        environment["lock"] = "requirements.txt"
    return environment


def _environment(t: Translation, base: Path) -> dict[str, Any]:
    if t.get(("python_env",)) is not None:
        return _python_env(t, base, str(t.get(("python_env",))))
    if t.get(("conda_env",)) is not None:
        t.warn(("conda_env",), "recorded as environment.conda; lock it with `samepack package-env`")
        return {"conda": str(t.get(("conda_env",)))}
    docker = t.get(("docker_env",))
    if docker is not None:
        if not isinstance(docker, dict) or not docker.get("image"):
            raise t.error(("docker_env",), "expected a mapping with image")
        for key in sorted(set(docker) - {"image"}):
            t.warn(("docker_env", key), "not honoured by samepack; ignored")
        return {"image": str(docker["image"])}
    t.warn((), "no python_env, conda_env or docker_env: steps run in the current environment")
    return {}


def load_mlproject(path: Path, source: Source | None = None) -> Program:
    """Translate an MLproject (see the module docstring)."""
    source = source or read_yaml(path)
    t = Translation(source)
    if not isinstance(source.data, dict):
        raise t.error((), "expected a mapping with name and entry_points")
    t.ignore_unknown((), source.data, TOP_KEYS)
    raw_name = t.get(("name",)) or path.resolve().parent.name
    t.at(("metadata",), ("name",))
    params: dict[str, Any] = {}
    steps = _entry_points(t, params)
    if len(steps) > 1:
        t.warn(("entry_points",), SEVERAL_ENTRY_POINTS)
    data = {"metadata": {"name": slug(str(raw_name)), "version": "0.0.0"},
            "environment": _environment(t, path.parent), "parameters": params, "steps": steps}
    return t.finish({k: v for k, v in data.items() if v}, "mlproject")


def select_entry_point(program: Program, name: str) -> Program:
    """``program`` cut down to step ``name`` and the steps it needs (``samepack run -e NAME``)."""
    from samepack.errors import InputError

    if name not in program.steps:
        raise InputError(f"-e {name}: program {program.ref} has no entry point '{name}'",
                         f"choose one of: {', '.join(program.steps)}")
    return select_steps(program, [name])


def select_steps(program: Program, names: list[str]) -> Program:
    """``program`` with only the steps ``names`` and the steps they need, and only the
    parameters those steps use (a notebook step keeps them all: they are injected, not
    substituted). Unknown names are ignored."""
    from samepack.program.values import placeholders

    keep: set[str] = set()
    todo = [name for name in names if name in program.steps]
    while todo:
        current = todo.pop()
        if current not in keep:
            keep.add(current)
            todo.extend(program.steps[current].needs)
    steps = {n: s for n, s in program.steps.items() if n in keep}
    used = {ref for step in steps.values() for text in [step.run, *step.env.values()]
            for kind, ref in placeholders(text) if kind == "params"}
    notebook = any(step.notebook for step in steps.values())
    parameters = {n: p for n, p in program.parameters.items() if notebook or n in used}
    return replace(program, steps=steps, parameters=parameters)
