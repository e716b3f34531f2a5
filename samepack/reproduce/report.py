"""The reproduction report: one value, rendered as JSON, Markdown and a rich table (all pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from samepack.console import titled_table
from samepack.reproduce.compare import Comparison, Outcome, Tolerance
from samepack.reproduce.machines import Difference

REPORT_FORMAT = 1
HEADLINES = {
    "reproduced": "reproduced: every recorded metric and output matched",
    "mismatch": "not reproduced: results differ from the record",
    "non-deterministic": "non-deterministic: the re-runs disagree among themselves",
    "failed": "not reproduced: a re-run failed",
    "nothing-to-compare": "nothing to compare: the recorded run has no metrics or output files",
}
_STYLE = {"match": "green", "new": "cyan", "mismatch": "red", "missing": "red",
          "non-deterministic": "yellow"}


@dataclass
class ReproReport:
    program: str  # NAME:VERSION
    source: str  # the bundle or store reference reproduced
    run_id: str
    params: dict[str, Any]
    tolerance: Tolerance
    environment: str  # how the interpreter was obtained
    comparison: Comparison
    machine: list[Difference] = field(default_factory=list)
    reruns: list[str] = field(default_factory=list)  # ids of the re-runs in the isolated store

    @property
    def outcome(self) -> Outcome:
        return self.comparison.outcome

    def to_json(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT, "outcome": self.outcome, "program": self.program,
            "source": self.source, "run": self.run_id, "params": self.params,
            "repeats": len(self.reruns), "reruns": self.reruns,
            "tolerance": {"rtol": self.tolerance.rtol, "atol": self.tolerance.atol},
            "environment": self.environment,
            "metrics": [{"name": m.name, "recorded": m.recorded, "reproduced": m.reproduced,
                         "difference": m.difference, "verdict": m.verdict}
                        for m in self.comparison.metrics],
            "artifacts": [{"path": a.path, "recorded": a.recorded, "reproduced": a.reproduced,
                           "verdict": a.verdict} for a in self.comparison.artifacts],
            "not_compared": self.comparison.not_compared,
            "failed_runs": self.comparison.failed_runs,
            "machine": [{"what": d.what, "recorded": d.recorded, "here": d.here}
                        for d in self.machine],
        }


def render_json(report: ReproReport) -> str:
    return json.dumps(report.to_json(), indent=2, sort_keys=True, allow_nan=True) + "\n"


def _number(value: float | None) -> str:
    return "-" if value is None else repr(value)


def _difference(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _values(values: list, separator: str = ", ") -> str:
    return separator.join(_number(v) if not isinstance(v, str) else v[:12] for v in values) or "-"


def _tolerance_text(tolerance: Tolerance) -> str:
    return "exact" if tolerance.exact else f"rtol={tolerance.rtol:g}, atol={tolerance.atol:g}"


def render_markdown(report: ReproReport) -> str:
    lines = [f"# Reproduction of {report.program}", "",
             f"**{HEADLINES[report.outcome]}**", "",
             f"- source: `{report.source}`", f"- recorded run: `{report.run_id}`",
             f"- parameters: `{json.dumps(report.params, sort_keys=True)}`",
             f"- re-runs: {len(report.reruns)} ({', '.join(f'`{r}`' for r in report.reruns)})",
             f"- comparison: {_tolerance_text(report.tolerance)}",
             f"- environment: {report.environment}", "",
             "## Metrics", "", "| metric | recorded | reproduced | difference | verdict |",
             "| --- | --- | --- | --- | --- |"]
    lines += [f"| {m.name} | {_number(m.recorded)} | {_values(m.reproduced)} | "
              f"{_difference(m.difference)} | {m.verdict} |" for m in report.comparison.metrics]
    if report.comparison.artifacts:
        lines += ["", "## Outputs", "", "| file | recorded sha256 | reproduced sha256 | verdict |",
                  "| --- | --- | --- | --- |"]
        lines += [f"| {a.path} | {(a.recorded or '-')[:12]} | {_values(a.reproduced)} | "
                  f"{a.verdict} |" for a in report.comparison.artifacts]
    if report.comparison.not_compared:
        lines += ["", "Listed, not compared (logs and run bookkeeping): "
                  + ", ".join(f"`{path}`" for path in report.comparison.not_compared)]
    lines += ["", "## Machine differences", ""]
    if report.machine:
        lines += ["| what | recorded | here |", "| --- | --- | --- |"]
        lines += [f"| {d.what} | {d.recorded} | {d.here} |" for d in report.machine]
    else:
        lines.append("None recorded.")
    return "\n".join(lines) + "\n"


def _widest(report: ReproReport, column: str) -> int:
    values = [[m.recorded] if column == "recorded" else m.reproduced
              for m in report.comparison.metrics]
    return max((len(_number(v)) for group in values for v in group), default=8)


def metrics_table(report: ReproReport) -> Table:
    table = Table(title=f"{report.program}: run {report.run_id[:12]} "
                        f"({_tolerance_text(report.tolerance)})", title_justify="left")
    table.add_column("metric", overflow="fold")
    for column in ("recorded", "reproduced"):  # every digit matters: never wrapped or cut
        table.add_column(column, no_wrap=True, min_width=_widest(report, column))
    table.add_column("difference", overflow="fold", min_width=len("difference"))
    table.add_column("verdict", no_wrap=True)
    for m in report.comparison.metrics:
        table.add_row(m.name, _number(m.recorded), _values(m.reproduced, "\n"),
                      _difference(m.difference), f"[{_STYLE[m.verdict]}]{m.verdict}[/]")
    for a in report.comparison.artifacts:
        table.add_row(f"file {a.path}", (a.recorded or "-")[:12], _values(a.reproduced, "\n"),
                      "", f"[{_STYLE[a.verdict]}]{a.verdict}[/]")
    return table


def machine_table(report: ReproReport) -> Table:
    return titled_table("what differs between the two machines", ("what", "recorded", "here"),
                        ((d.what, d.recorded, d.here) for d in report.machine))


def report_basename(report: ReproReport) -> str:
    name, _, version = report.program.partition(":")
    return f"reproduce-{name}-{version}-{report.run_id[:12]}"


def write_report_files(report: ReproReport, directory: Path) -> list[Path]:
    """``<directory>/reproduce-NAME-VERSION-RUN.json``, ``.md`` and ``.html``, each written atomically
    (an earlier report of the same run is replaced: it is samepack's own output)."""
    from samepack.init.writer import write_atomic

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    from samepack.insights.repro import repro_html

    html = repro_html(report, HEADLINES[report.outcome], _tolerance_text(report.tolerance))
    for suffix, text in ((".json", render_json(report)), (".md", render_markdown(report)),
                         (".html", html)):
        target = directory / (report_basename(report) + suffix)
        write_atomic(target, text)
        written.append(target)
    return written
