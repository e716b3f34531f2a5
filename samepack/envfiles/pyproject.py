"""Merging requirements into a user's ``pyproject.toml`` with tomlkit (formatting and comments
kept). Only ``[project] dependencies`` is touched, and only to add what is missing."""

from __future__ import annotations

from samepack.errors import InputError
from samepack.scan.names import canonical_name


def merge_dependencies(text: str, requirements: list[str]) -> str:
    """``text`` with ``requirements`` whose names are not yet declared appended to
    ``[project] dependencies``; unchanged when there is no ``[project]`` table."""
    import tomlkit  # keeps formatting and comments; only needed when there is a pyproject.toml
    from tomlkit.exceptions import TOMLKitError

    try:
        document = tomlkit.parse(text)
    except TOMLKitError as bad:
        raise InputError(f"pyproject.toml: not valid TOML ({bad})",
                         hint="fix the TOML syntax at the line named") from bad
    project = document.get("project")
    if project is None or not requirements:
        return text
    if "dependencies" not in project:
        if "dependencies" in project.get("dynamic", []):
            return text
        project["dependencies"] = tomlkit.array()
    declared = project["dependencies"]
    names = {_name(str(item)) for item in declared}
    missing = [r for r in requirements if _name(r) not in names]
    if not missing:
        return text
    was_multiline = "\n" in declared.as_string()
    for requirement in missing:
        declared.append(requirement)
    if not was_multiline and len(declared) > 1:
        declared.multiline(True)
    return tomlkit.dumps(document)


def _name(requirement: str) -> str:
    from packaging.requirements import InvalidRequirement, Requirement  # a pyproject's only

    try:
        return canonical_name(Requirement(requirement).name)
    except InvalidRequirement:
        return canonical_name(requirement.split(";")[0].strip())
