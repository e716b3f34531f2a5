"""Positional parameters read from ``sys.argv[N]`` (see ``samepack.init.params``).

The MLflow examples' idiom is understood in full:
``alpha = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5`` gives ``alpha: float = 0.5``.
"""

from __future__ import annotations

import ast
from typing import Any

from samepack.init.params import (
    CliParam, ModuleView, ScriptParams, call_name, is_literal, literal, type_from_node,
)
from samepack.program.values import infer_type


def _argv_index(node: ast.AST) -> int | None:
    """N for ``sys.argv[N]`` (N >= 1), else None."""
    if isinstance(node, ast.Subscript) and call_name(node.value) in {"sys.argv", "argv"}:
        index = node.slice
        if isinstance(index, ast.Constant) and isinstance(index.value, int) and index.value >= 1:
            return index.value
    return None


def _find_index(node: ast.AST) -> int | None:
    for child in ast.walk(node):
        index = _argv_index(child)
        if index is not None:
            return index
    return None


def _converter(node: ast.AST) -> str | None:
    """The type of ``float(sys.argv[1])`` and the like, looked up around the subscript."""
    for child in ast.walk(node):
        if isinstance(child, ast.Call) and any(_argv_index(arg) is not None for arg in child.args):
            return type_from_node(child)
    return None


def _param_from_assignment(target: str, value: ast.AST, line: int,
                           constants: dict[str, Any]) -> tuple[int, CliParam] | None:
    index = _find_index(value)
    if index is None:
        return None
    default = None
    if isinstance(value, ast.IfExp):
        branch = value.orelse if _find_index(value.body) == index else value.body
        default = literal(branch, constants)
        default = default if is_literal(default) else None
    declared = _converter(value)
    param_type = declared or (infer_type(default) if default is not None else "str")
    return index, CliParam(name=target, type=param_type, default=default, kind="positional",
                           required=default is None, line=line, source="sys.argv")


def read_sys_argv(module: ModuleView) -> ScriptParams | None:
    """One positional parameter per ``sys.argv[N]``, named after the variable it is assigned to."""
    indexes = {i for node in module.nodes if (i := _argv_index(node)) is not None}
    if not indexes:
        return None
    found: dict[int, CliParam] = {}
    for node in module.nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            hit = _param_from_assignment(node.targets[0].id, node.value, node.lineno,
                                         module.constants)
            if hit and hit[0] not in found:
                found[hit[0]] = hit[1]
    for index in sorted(indexes - set(found)):
        found[index] = CliParam(name=f"arg{index}", kind="positional", required=True,
                                source="sys.argv")
    result = ScriptParams(framework="sys.argv")
    for expected, index in enumerate(sorted(found), start=1):
        if index != expected:
            result.notes.append(f"sys.argv[{expected}] is never read; positions shift")
            break
    result.params = [found[index] for index in sorted(found)]
    return result
