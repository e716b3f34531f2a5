"""Benchmark the run report (`samepack runs report`): build time and file size for 10 and
10,000 runs, beside plotly's own self-contained HTML of the same charts (plotly.io.to_html
with plotly.js embedded) as the peer.

    python bench/report.py            # a table on stdout (bench/run.py prints it too)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from samepack.history import History  # noqa: E402

STEPS = 10  # metric points per run
PARAMS = 5


def _records(count: int) -> list[dict]:
    records = []
    for i in range(count):
        series = [{"value": 1.0 / (step + 1 + i % 7), "step": step, "timestamp": 1_700_000_000_000 + step,
                   "stage": "train"} for step in range(STEPS)]
        records.append({
            "id": f"{i:032x}", "program": "bench", "version": "1.0",
            "params": {f"p{k}": (i * (k + 1)) % 97 / 10 for k in range(PARAMS)},
            "status": "succeeded" if i % 10 else "failed",
            "started_at": f"2026-01-01T00:00:00.{i:06d}Z", "ended_at": f"2026-01-01T00:01:00.{i:06d}Z",
            "steps": [{"name": "train", "exit_code": 0, "started_at": None, "duration_s": 1.0,
                       "status": "succeeded"}],
            "metrics": {"loss": series[-1]["value"], "accuracy": 1 - series[-1]["value"]},
            "metric_series": {"loss": series, "accuracy": [{**p, "value": 1 - p["value"]} for p in series]},
            "artifacts": [{"path": "model.bin", "size": 10, "sha256": f"{i:064x}"}],
            "lock_digest": "sha256:" + "0" * 64, "git_commit": "c" * 40, "git_dirty": False,
            "host": {"cpus": 2}, "source": "samepack", "tags": {}})
    return records


def _peer(history: History) -> str:
    """The same three charts drawn by plotly itself, one self-contained HTML file."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    runs = history.list_runs()
    figure = make_subplots(rows=1, cols=3)
    figure.add_trace(go.Scatter(y=[r.metrics["loss"] for r in runs], mode="lines+markers"), 1, 1)
    for r in runs[:50]:
        points = r.metric_series["loss"]
        figure.add_trace(go.Scatter(x=[p.step for p in points], y=[p.value for p in points]), 1, 2)
    figure.add_trace(go.Scatter(x=[r.params["p0"] for r in runs], y=[r.metrics["loss"] for r in runs],
                                mode="markers"), 1, 3)
    return figure.to_html(include_plotlyjs=True, full_html=True)


def bench_report(work: Path, counts: tuple[int, ...] = (10, 10_000), repeat: int = 3) -> dict[str, float]:
    from samepack.insights.build import report_html

    results: dict[str, float] = {}
    for count in counts:
        history = History(work / f"report-{count}.sqlite")
        history.import_runs(_records(count))

        def ours() -> str:
            return report_html(history.list_runs(), logs={})

        times, peer_times = [], []
        for _ in range(repeat):
            start = time.perf_counter()
            page = ours()
            times.append(time.perf_counter() - start)
            start = time.perf_counter()
            peer = _peer(history)
            peer_times.append(time.perf_counter() - start)
        ours_s, peer_s = statistics.median(times), statistics.median(peer_times)
        results[f"{count} runs: samepack build (s)"] = ours_s
        results[f"{count} runs: plotly to_html (s)"] = peer_s
        results[f"{count} runs: build ratio samepack/plotly"] = ours_s / peer_s
        results[f"{count} runs: samepack size (MB)"] = len(page.encode()) / 1e6
        results[f"{count} runs: plotly size (MB)"] = len(peer.encode()) / 1e6
        history.close()
    return results


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="samepack-bench-report-") as temp:
        results = bench_report(Path(temp))
    for name, value in results.items():
        print(f"  {name:45s} {value:12.3f}")


if __name__ == "__main__":
    main()
