"""What reading one source file yields: its imports, hardware hints, notebook installs or a problem.

Plain picklable values: workers of the parallel parse send them back to the parent process.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImportUse:
    """One imported name. ``module`` is dotted and as long as the code says
    (``from google.cloud import storage`` -> ``google.cloud.storage``); ``level`` > 0 for
    relative imports, which always stay inside the project."""

    module: str
    line: int
    optional: bool = False
    level: int = 0


@dataclass(frozen=True)
class Hint:
    """A textual sign of hardware use: kind is cuda, rocm, mps, tpu or multi_gpu."""

    kind: str
    line: int


@dataclass
class FileFacts:
    path: str
    imports: list[ImportUse] = field(default_factory=list)
    hints: list[Hint] = field(default_factory=list)
    pip_installs: list[tuple[str, int]] = field(default_factory=list)  # (requirement, line)
    problem: str | None = None
    local_imports: list[str] = field(default_factory=list)  # filled when imports are pruned


def import_uses(node: ast.stmt, line: int, optional: bool) -> list[ImportUse]:
    """The names one Import/ImportFrom statement brings in (shared with the fast path)."""
    if isinstance(node, ast.Import):
        return [ImportUse(alias.name, line, optional) for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        return [ImportUse(f"{base}.{alias.name}".strip(".") if alias.name != "*" else base,
                          line, optional, node.level) for alias in node.names]
    return []
