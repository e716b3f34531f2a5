"""Dependencies declared in ``pyproject.toml``: PEP 621 (``dependencies``,
``optional-dependencies``), PEP 735 ``dependency-groups`` and Poetry, with Poetry's caret and
tilde constraints translated to PEP 440."""

from __future__ import annotations

import re
from typing import Any

from samepack.scan.context import TomlFile, line_of
from samepack.scan.model import DeclaredRequirement, Evidence, Problem
from samepack.scan.declared.requirements_txt import parse_requirement_line
from samepack.scan.names import canonical_name


def pyproject_requirements(toml: TomlFile, problems: list[Problem]) -> list[DeclaredRequirement]:
    project = toml.data.get("project", {})
    found = _pep508_list(toml, project.get("dependencies", []), None, problems)
    for extra, items in sorted(project.get("optional-dependencies", {}).items()):
        found += _pep508_list(toml, items, extra, problems)
    for group, items in sorted(toml.data.get("dependency-groups", {}).items()):
        found += _pep508_list(toml, [i for i in items if isinstance(i, str)], group, problems)
    poetry = toml.data.get("tool", {}).get("poetry", {})
    found += _poetry_table(toml, poetry.get("dependencies", {}), None)
    found += _poetry_table(toml, poetry.get("dev-dependencies", {}), "dev")
    for group, table in sorted(poetry.get("group", {}).items()):
        found += _poetry_table(toml, table.get("dependencies", {}), group)
    return found


def _pep508_list(toml: TomlFile, items: Any, group: str | None,
                 problems: list[Problem]) -> list[DeclaredRequirement]:
    found = []
    for item in items if isinstance(items, list) else []:
        name = re.split(r"[\s\[<>=!~;@(]", str(item), maxsplit=1)[0]
        evidence = Evidence(toml.rel, line_of(toml.lines, f'"{item}"', f"'{item}'", f'"{name}'))
        parsed = parse_requirement_line(str(item), evidence, group)
        if isinstance(parsed, str):
            problems.append(Problem(toml.rel, f"{item!r}: {parsed.split(': ', 1)[-1]}"))
        elif parsed:
            found.append(parsed)
    return found


def _poetry_table(toml: TomlFile, table: Any, group: str | None) -> list[DeclaredRequirement]:
    found = []
    for name, spec in table.items() if isinstance(table, dict) else []:
        if name.lower() == "python":
            continue
        if isinstance(spec, list):  # multiple constraints: take the first
            spec = spec[0] if spec else "*"
        extras, optional = "", False
        if isinstance(spec, dict):
            extras = ",".join(spec.get("extras", []))
            optional = bool(spec.get("optional"))
            spec = spec.get("version", "*")
        requirement = name + (f"[{extras}]" if extras else "") + poetry_specifier(str(spec))
        evidence = Evidence(toml.rel, line_of(toml.lines, f"{name} =", f'"{name}" =', f"{name}="))
        found.append(DeclaredRequirement(canonical_name(name), requirement, "pypi", evidence,
                                         group or ("extra" if optional else None)))
    return found


def poetry_specifier(spec: str) -> str:
    """Poetry constraint -> PEP 440 specifier: ``^1.2.3`` -> ``>=1.2.3,<2.0.0``,
    ``~1.2`` -> ``>=1.2,<1.3``, ``1.2.3`` -> ``==1.2.3``, ``*`` -> ``""``."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    translated = [_one_constraint(p) for p in parts]
    return ",".join(t for t in translated if t)


def _one_constraint(spec: str) -> str:
    if spec in ("*", ""):
        return ""
    if spec.startswith("^"):
        return _caret(spec[1:].strip())
    if spec.startswith("~") and not spec.startswith("~="):
        return _tilde(spec[1:].strip())
    if re.match(r"^\d", spec):
        return f"=={spec}"
    return spec.replace(" ", "")


def _numbers(version: str) -> list[int]:
    return [int(p) for p in re.findall(r"\d+", version.split("-")[0])[:3]]


def _caret(version: str) -> str:
    numbers = _numbers(version)
    first_nonzero = next((i for i, n in enumerate(numbers) if n), len(numbers) - 1)
    upper = numbers[: first_nonzero + 1]
    upper[-1] += 1
    upper += [0] * (len(numbers) - len(upper))
    return f">={version},<{'.'.join(map(str, upper))}"


def _tilde(version: str) -> str:
    numbers = _numbers(version)
    upper = numbers[:2] if len(numbers) > 1 else numbers[:1]
    upper[-1] += 1
    upper += [0] * (len(numbers) - len(upper))
    return f">={version},<{'.'.join(map(str, upper))}"
