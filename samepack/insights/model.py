"""What the run report shows, as one JSON-ready value made from run records (pure).

Everything is sorted (runs by start time then id, names alphabetically) so the same runs give
the same bytes. Log tails are given by the caller (``samepack.insights.logs`` reads them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from samepack.history.records import RunRecord

REPORT_DATA_FORMAT = 1


@dataclass
class ReportInput:
    records: list[RunRecord]
    logs: dict[str, list[str]] = field(default_factory=dict)  # run id -> last lines
    title: str = "samepack runs"
    live: bool = False  # served by `runs report --serve`: the page polls for new runs


def _number(value: Any) -> Any:
    """JSON has no NaN or infinity: they become strings the page shows as they are."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _run(record: RunRecord, log: list[str]) -> dict[str, Any]:
    series = {}
    for name, points in sorted(record.metric_series.items()):
        series[name] = {"step": [p.step for p in points],
                        "value": [_number(p.value) for p in points],
                        "stage": sorted({p.stage for p in points if p.stage})}
    return {
        "id": record.id, "program": record.program, "version": record.version,
        "status": record.status, "source": record.source,
        "started": record.started_at, "ended": record.ended_at,
        "duration_s": _duration(record),
        "params": {k: _number(v) for k, v in sorted(record.params.items())},
        "metrics": {k: _number(v) for k, v in sorted(record.metrics.items())},
        "series": series,
        "steps": [{"name": s.name, "status": s.status, "exit_code": s.exit_code,
                   "seconds": s.duration_s} for s in record.steps],
        "outputs": [{"path": a.get("path"), "size": a.get("size"), "sha256": a.get("sha256")}
                    for a in sorted(record.artifacts, key=lambda a: str(a.get("path")))],
        "lock_digest": record.lock_digest, "git_commit": record.git_commit,
        "git_dirty": record.git_dirty, "host": dict(sorted(record.host.items())),
        "tags": dict(sorted((k, str(v)) for k, v in record.tags.items())),
        "log": log,
    }


def _duration(record: RunRecord) -> float | None:
    from datetime import datetime

    if not record.started_at or not record.ended_at:
        return None
    start = datetime.fromisoformat(record.started_at.replace("Z", "+00:00"))
    end = datetime.fromisoformat(record.ended_at.replace("Z", "+00:00"))
    return round((end - start).total_seconds(), 3)


def report_data(given: ReportInput) -> dict[str, Any]:
    records = sorted(given.records, key=lambda r: (r.started_at or "", r.id))
    runs = [_run(r, given.logs.get(r.id, [])) for r in records]
    params = sorted({name for r in records for name in r.params})
    metrics = sorted({name for r in records for name in r.metrics})
    return {"format": REPORT_DATA_FORMAT, "title": given.title, "live": given.live,
            "programs": sorted({r.program for r in records}),
            "versions": sorted({r.ref for r in records}),
            "statuses": sorted({r.status for r in records}),
            "params": params, "metrics": metrics, "highlights": highlights(records, metrics),
            "runs": runs}


def highlights(records: list[RunRecord], metrics: list[str]) -> dict[str, Any]:
    """Counts by status, and per metric the lowest and highest last value (with their runs)."""
    counts: dict[str, int] = {}
    for r in records:
        counts[r.status] = counts.get(r.status, 0) + 1
    extremes = {}
    for name in metrics:
        values = [(r.metrics[name], r.id) for r in records
                  if isinstance(r.metrics.get(name), (int, float))
                  and math.isfinite(r.metrics[name])]
        if values:
            low, high = min(values), max(values)
            extremes[name] = {"min": low[0], "min_run": low[1], "max": high[0],
                              "max_run": high[1], "runs": len(values)}
    return {"total": len(records), "by_status": dict(sorted(counts.items())), "metrics": extremes}
