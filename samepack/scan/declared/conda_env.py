"""``environment.yml``: conda dependencies (with conda names mapped to PyPI ones), the ``pip:``
section, and the Python version pinned there, each with its line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from samepack.scan.resolve.mapping import conda_to_pypi
from samepack.scan.model import DeclaredRequirement, Evidence, Problem
from samepack.scan.declared.requirements_txt import parse_requirement_line
from samepack.scan.names import canonical_name

ENVIRONMENT_FILES = ("environment.yml", "environment.yaml")
_CONDA_SPEC = re.compile(r"^(?:[\w.\-/]+::)?(?P<name>[A-Za-z0-9_.\-]+)\s*(?P<spec>.*)$")


@dataclass
class CondaEnvironment:
    rel: str
    requirements: list[DeclaredRequirement] = field(default_factory=list)
    python: tuple[str, Evidence] | None = None
    conda_names: list[tuple[str, str, Evidence]] = field(default_factory=list)  # (name, spec, where)


def read_environment(rel: str, text: str, problems: list[Problem]) -> CondaEnvironment | None:
    """The environment in ``text``; a file that is not YAML becomes a problem."""
    import yaml  # only conda projects pay for it

    try:
        node = yaml.compose(text)
    except yaml.YAMLError as error:
        problems.append(Problem(rel, f"invalid YAML: {str(error).splitlines()[0]}"))
        return None
    env = CondaEnvironment(rel)
    for item in _dependency_nodes(node):
        evidence = Evidence(rel, item.start_mark.line + 1)  # compose() keeps positions
        if isinstance(item, yaml.ScalarNode):
            _add_conda(env, str(item.value), evidence)
        elif isinstance(item, yaml.MappingNode):
            for key, value in item.value:
                if key.value == "pip" and isinstance(value, yaml.SequenceNode):
                    _add_pip(env, value, problems)
    return env


def _dependency_nodes(node) -> list:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == "dependencies" and isinstance(value, yaml.SequenceNode):
            return list(value.value)
    return []


def _add_conda(env: CondaEnvironment, spec: str, evidence: Evidence) -> None:
    match = _CONDA_SPEC.match(spec.strip())
    if not match:
        return
    name, constraint = match.group("name"), match.group("spec").strip()
    env.conda_names.append((name.lower(), constraint, evidence))
    if name.lower() == "python":
        env.python = (constraint.lstrip("="), evidence)
        return
    pypi = conda_to_pypi(name)
    if pypi:
        env.requirements.append(DeclaredRequirement(
            canonical_name(pypi), spec.strip(), "conda", evidence, None))


def _add_pip(env: CondaEnvironment, items, problems: list[Problem]) -> None:
    for item in items.value:
        evidence = Evidence(env.rel, item.start_mark.line + 1)
        parsed = parse_requirement_line(str(item.value), evidence, None)
        if isinstance(parsed, str):
            problems.append(Problem(env.rel, parsed))
        elif parsed:
            env.requirements.append(parsed)


def conda_spec_as_pep508(name: str, spec: str) -> str:
    """``scipy=1.11`` -> ``scipy==1.11.*``, ``numpy>=1.24`` -> ``numpy>=1.24``,
    ``numpy 1.24.*`` -> ``numpy==1.24.*``: what a PyPI lock of a conda dependency asks for."""
    match = _CONDA_SPEC.match(spec.strip())
    constraint = match.group("spec").strip() if match else ""
    constraint = constraint.split()[0] if constraint else ""  # drop a build string
    if not constraint:
        return name
    if constraint.startswith("=") and not constraint.startswith("=="):
        version = constraint[1:]  # conda's "=1.11" means any 1.11.x
    elif re.match(r"^\d", constraint):
        version = constraint
    else:
        return f"{name}{constraint}"  # >=, <, == and friends mean the same in PEP 440
    whole = "*" in version or version.count(".") >= 2
    return f"{name}=={version}" if whole else f"{name}=={version}.*"
