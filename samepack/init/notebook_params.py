"""Parameters of a notebook: the assignments in the cell tagged ``parameters`` (papermill's
convention). ``alpha = 0.5  # regularisation`` gives ``alpha: float = 0.5`` with that help text.
The runner injects the values after that cell (``samepack.program.notebook``)."""

from __future__ import annotations

import ast
import io
import json
import tokenize
from pathlib import Path
from typing import Any

from samepack.init.params import CliParam, ScriptParams, is_literal, literal
from samepack.program.values import infer_type


def _comments(source: str) -> dict[int, str]:
    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return comments


def _cell_text(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def parameters_cell(notebook: dict[str, Any]) -> str | None:
    for cell in notebook.get("cells") or []:
        tags = (cell.get("metadata") or {}).get("tags") or []
        if cell.get("cell_type") == "code" and "parameters" in tags:
            return _cell_text(cell)
    return None


def cell_parameters(source: str) -> list[CliParam]:
    """One parameter per top-level ``NAME = literal`` (or ``NAME: T = literal``)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    comments = _comments(source)
    params: list[CliParam] = []
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 \
            else node.target if isinstance(node, ast.AnnAssign) else None
        if not isinstance(target, ast.Name) or node.value is None:
            continue
        value = literal(node.value, {})
        if not is_literal(value) or isinstance(value, (list, dict, tuple, set)):
            continue
        params.append(CliParam(name=target.id, type=infer_type(value), default=value,
                               help=comments.get(node.lineno), kind="positional",
                               line=node.lineno, source="papermill"))
    return params


def read_notebook_parameters(path: Path) -> ScriptParams:
    """The parameters of the notebook at ``path`` (none when it has no ``parameters`` cell)."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return ScriptParams(framework=None, notes=[f"{path.name} cannot be read: {error}"])
    source = parameters_cell(notebook)
    if source is None:
        return ScriptParams(framework=None, notes=[f"{path.name} has no cell tagged 'parameters'"])
    return ScriptParams(framework="papermill", params=cell_parameters(source))
