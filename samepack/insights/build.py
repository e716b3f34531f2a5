"""The report's side effects: reading runs (and their log tails) and writing the HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from samepack.history.records import RunRecord
from samepack.insights.logs import log_tails
from samepack.insights.model import ReportInput, report_data
from samepack.insights.plotlyjs import plotly_js
from samepack.insights.render import runs_page


def report_html(records: list[RunRecord], title: str | None = None, live: bool = False,
                logs: dict[str, list[str]] | None = None) -> str:
    """The report page of ``records``, with ``logs`` (default: the tails kept in this store)."""
    programs = sorted({r.ref for r in records})
    title = title or ("samepack runs of " + ", ".join(programs[:3])
                      + (f" and {len(programs) - 3} more" if len(programs) > 3 else "")
                      if programs else "samepack runs")
    if logs is None:
        logs = log_tails([r.id for r in records])
    given = ReportInput(records, logs, title, live)
    return runs_page(report_data(given), plotly_js())


def bundle_report(records: list[dict[str, Any]], ref: str) -> bytes:
    """The report an exported bundle carries (``metadata/report.html``) for its runs: made from
    the records alone, so a bundle exported again after an import has the same bytes."""
    return report_html([RunRecord.from_dict(r) for r in records], f"samepack runs of {ref}",
                       logs={}).encode("utf-8")


def history_report(program: str | None = None, version: str | None = None,
                   limit: int | None = None, live: bool = False) -> str:
    from samepack.console import warn
    from samepack.history import History

    history = History()
    try:  # a run whose record is damaged is left out of the report, with a warning
        records = history.list_runs(program, limit=limit, version=version,
                                    damaged=lambda error: warn(error.left_out()))
    finally:
        history.close()
    return report_html(records, live=live)


def write_html(path: Path, text: str) -> Path:
    from samepack.init.writer import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    path.chmod(0o644)  # a page to share, not a secret (the temp file was private)
    return path
