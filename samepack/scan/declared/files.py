"""Declared dependencies: every file format a project may list them in. Each reader is a small
function over the scan context; ``DECLARATION_READERS`` is the ordered registry."""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from typing import Callable

from samepack.scan.context import ScanContext, line_of
from samepack.scan.model import DeclaredRequirement, Evidence, Problem
from samepack.scan.declared.pyproject_deps import poetry_specifier, pyproject_requirements
from samepack.scan.declared.requirements_txt import parse_requirement_line, parse_requirements_file
from samepack.scan.names import canonical_name


def requirement_files(ctx: ScanContext) -> list[str]:
    """``requirements*.txt|in``, ``*-requirements.txt`` at the root and files in ``requirements/``."""
    found = []
    for directory, prefix in ((ctx.root, ""), (ctx.root / "requirements", "requirements/")):
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            name = path.name.lower()
            if not path.is_file() or not name.endswith((".txt", ".in")):
                continue
            if prefix or name.startswith("requirements") or name.endswith("requirements.txt"):
                found.append(prefix + path.name)
    return found


def from_requirement_files(ctx: ScanContext) -> list[DeclaredRequirement]:
    seen: set[str] = set()
    found: list[DeclaredRequirement] = []
    for rel in requirement_files(ctx):
        found += parse_requirements_file(ctx.root, rel, ctx.problems, seen)
    return found


def from_pyproject(ctx: ScanContext) -> list[DeclaredRequirement]:
    return pyproject_requirements(ctx.pyproject, ctx.problems) if ctx.pyproject else []


def from_setup_cfg(ctx: ScanContext) -> list[DeclaredRequirement]:
    text = ctx.read_text("setup.cfg")
    if text is None:
        return []
    import configparser  # only projects with a setup.cfg pay for it

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as error:
        ctx.problems.append(Problem("setup.cfg", f"invalid: {str(error).splitlines()[0]}"))
        return []
    lines = text.splitlines()
    found = _cfg_list(parser.get("options", "install_requires", fallback=""), lines, None, ctx)
    if parser.has_section("options.extras_require"):
        for extra, value in parser.items("options.extras_require"):
            found += _cfg_list(value, lines, extra, ctx)
    return found


def _cfg_list(value: str, lines: list[str], group: str | None, ctx: ScanContext) -> list[DeclaredRequirement]:
    found = []
    for item in value.splitlines():
        item = item.split("#", 1)[0].strip()
        if not item:
            continue
        parsed = parse_requirement_line(item, Evidence("setup.cfg", line_of(lines, item)), group)
        if isinstance(parsed, DeclaredRequirement):
            found.append(parsed)
        elif parsed:
            ctx.problems.append(Problem("setup.cfg", parsed))
    return found


def from_setup_py(ctx: ScanContext) -> list[DeclaredRequirement]:
    """``install_requires``/``extras_require`` of a ``setup(...)`` call, when they are literal
    lists (or names bound to literal lists). The file is parsed, never executed."""
    text = ctx.read_text("setup.py")
    if text is None:
        return []
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []  # reported once, as a source file that does not parse
    names = _literal_assignments(tree)
    found: list[DeclaredRequirement] = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and _is_setup(n.func)):
        for keyword in call.keywords:
            if keyword.arg == "install_requires":
                found += _literal_requirements(keyword.value, names, None)
            elif keyword.arg == "extras_require" and isinstance(keyword.value, ast.Dict):
                for key, value in zip(keyword.value.keys, keyword.value.values):
                    group = key.value if isinstance(key, ast.Constant) else "extra"
                    found += _literal_requirements(value, names, str(group))
    return found


def _is_setup(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id == "setup") or (
        isinstance(func, ast.Attribute) and func.attr == "setup")


def _literal_assignments(tree: ast.Module) -> dict[str, ast.expr]:
    return {target.id: node.value for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)}


def _literal_requirements(node: ast.expr, names: dict[str, ast.expr],
                          group: str | None) -> list[DeclaredRequirement]:
    if isinstance(node, ast.Name) and node.id in names:
        node = names[node.id]
    if not isinstance(node, (ast.List, ast.Tuple)):
        return []
    found = []
    for element in node.elts:
        if isinstance(element, ast.Constant) and isinstance(element.value, str):
            parsed = parse_requirement_line(element.value, Evidence("setup.py", element.lineno), group)
            if isinstance(parsed, DeclaredRequirement):
                found.append(parsed)
    return found


def from_environment(ctx: ScanContext) -> list[DeclaredRequirement]:
    return ctx.conda.requirements if ctx.conda else []


def from_pipfile(ctx: ScanContext) -> list[DeclaredRequirement]:
    pipfile = ctx.pipfile
    if not pipfile:
        return []
    found = []
    for section, group in (("packages", None), ("dev-packages", "dev")):
        for name, spec in pipfile.data.get(section, {}).items():
            extras = ""
            if isinstance(spec, dict):
                extras = ",".join(spec.get("extras", []))
                spec = spec.get("version", "*")
            specifier = "" if spec in ("*", "") else poetry_specifier(str(spec))
            requirement = name + (f"[{extras}]" if extras else "") + specifier
            evidence = Evidence("Pipfile", line_of(pipfile.lines, f"{name} =", f'"{name}" =', f"{name}="))
            found.append(DeclaredRequirement(canonical_name(name), requirement, "pypi", evidence, group))
    return found


DECLARATION_READERS: list[Callable[[ScanContext], list[DeclaredRequirement]]] = [
    from_pyproject, from_setup_cfg, from_setup_py, from_requirement_files, from_pipfile,
    from_environment,
]


def declared_requirements(ctx: ScanContext) -> list[DeclaredRequirement]:
    """Everything the project declares, in registry order: when a name is declared twice, the
    first declaration (package metadata before requirement files) is the one to lock."""
    return [renamed(requirement) for reader in DECLARATION_READERS for requirement in reader(ctx)]


# Import names people write as requirements, which PyPI does not install (``sklearn`` is a
# placeholder that fails on purpose): the distribution they mean.
RENAMED = {"sklearn": "scikit-learn", "cv2": "opencv-python", "pil": "pillow"}


def renamed(requirement: DeclaredRequirement) -> DeclaredRequirement:
    """``sklearn>=1.2`` declared -> ``scikit-learn>=1.2``, with the same evidence."""
    target = RENAMED.get(requirement.name) if requirement.ecosystem == "pypi" else None
    if target is None:
        return requirement
    text = re.sub(r"^\s*[A-Za-z0-9][A-Za-z0-9._-]*", target, requirement.requirement, count=1)
    return replace(requirement, name=target, requirement=text)
