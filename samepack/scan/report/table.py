"""A Scan as one rich renderable: everything a person wants from ``samepack scan``."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from samepack.scan.model import Scan
from samepack.scan.report.render import evidence_text


def scan_table(scan: Scan) -> RenderableType:
    """Everything a person wants from a scan, as one rich renderable."""
    parts: list[RenderableType] = [_summary(scan), _dependencies(scan)]
    if scan.system_libraries:
        parts.append(_system(scan))
    parts.append(_hardware(scan))
    if scan.problems:
        parts.append(_problems(scan))
    return Group(*parts)


def _summary(scan: Scan) -> Text:
    python = scan.python.version or "not declared"
    where = f" ({evidence_text(scan.python.evidence)})" if scan.python.evidence else ""
    text = Text()
    text.append(f"Python {python}{where}; standard library of {scan.target_python}; ")
    text.append(f"{scan.files_scanned} source files read ({scan.parse_mode} parse)")
    if scan.conda_environment:
        text.append(f"; conda environment {scan.conda_environment}")
    if scan.local_modules:
        text.append(f"\nThe project's own modules: {', '.join(scan.local_modules)}")
    return text


_STATUS_STYLE = {"used": "green", "undeclared": "yellow", "unused": "dim"}


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _dependencies(scan: Scan) -> Table:
    table = _table("Dependencies", "distribution", "requirement", "status", "imports", "evidence")
    for dep in scan.dependencies:
        status = dep.status + (" (optional)" if dep.optional else "")
        table.add_row(Text(dep.name), Text(dep.requirement),
                      Text(status, style=_STATUS_STYLE[dep.status]),
                      Text(", ".join(dep.imports)), Text(evidence_text(dep.evidence)))
    undeclared = sum(d.status == "undeclared" and not d.optional for d in scan.dependencies)
    unused = sum(d.status == "unused" for d in scan.dependencies)
    table.caption = f"{undeclared} imported but declared nowhere; {unused} declared but never imported"
    table.caption_justify = "left"
    return table


def _system(scan: Scan) -> Table:
    table = _table("System libraries", "package", "why", "evidence")
    for library in scan.system_libraries:
        table.add_row(Text(library.name), Text(library.reason), Text(evidence_text(library.evidence)))
    return table


def _hardware(scan: Scan) -> Text:
    hw = scan.hardware
    if not (hw.gpu or hw.accelerators or hw.cuda):
        return Text("Hardware: CPU only (no GPU use found)")
    facts = [f"GPU: {'yes' if hw.gpu else 'no'}", f"multi-GPU: {'yes' if hw.multi_gpu else 'no'}"]
    if hw.cuda:
        facts.append(f"CUDA {hw.cuda}")
    if hw.accelerators:
        facts.append("accelerators: " + ", ".join(hw.accelerators))
    return Text(f"Hardware: {'; '.join(facts)} ({evidence_text(hw.evidence)})")


def _problems(scan: Scan) -> Table:
    table = _table("Files not read", "file", "reason")
    for problem in scan.problems:
        table.add_row(Text(problem.path), Text(problem.reason))
    return table
