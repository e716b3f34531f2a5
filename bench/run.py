"""Benchmark programs, runs and the run history.

    python bench/run.py                        # all measurements, a table on stdout
    python bench/run.py --json-out bench/out/run.json

Measured, each as the median of several repetitions on this machine:
  load      load_program for each format (samepack.yaml, SAME notebook, AME old/new)
  overhead  `samepack run -f` of a one-step program (`python -c pass`) as a real process,
            against running `python -c pass` directly: what samepack adds per run, as wall
            time and as CPU time (user + system; steadier on a busy machine)
  history   start_run+finish_run per second, metric points logged per second (one batch),
            and N processes writing runs at once into one history (integrity checked)
  report    `runs report` build time and size for 10 and 10,000 runs, beside plotly's own
            self-contained HTML of the same charts (bench/report.py)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from samepack.history import History, MetricPoint  # noqa: E402
from samepack.program import load_program  # noqa: E402
from report import bench_report  # noqa: E402  (bench/report.py)

PROGRAM = """apiVersion: samepack.dev/v1
kind: Program
metadata: {name: bench, version: "1.0"}
steps:
  noop: {run: "python -c pass"}
"""
WRITER = """import sys
from samepack.history import History
h = History()
for i in range(int(sys.argv[1])):
    run = h.start_run("bench", "1.0", {"i": i})
    h.log_metric(run, "m", float(i))
    h.finish_run(run, "succeeded")
"""


def timed(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def child_cpu(action, repeat: int) -> float:
    """Median CPU seconds (user + system) the subprocesses of ``action`` used."""
    times = []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        action()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(times)


def bench_load(repeat: int) -> dict[str, float]:
    legacy = REPO / "fixtures" / "legacy"
    files = {"samepack.yaml": REPO / "fixtures" / "wine-quality" / "samepack.yaml",
             "same notebook": legacy / "same-notebook" / "same.yaml",
             "ame (older)": legacy / "ame-v1" / "ame.yaml",
             "ame (newer)": legacy / "ame-v2" / "ame.yaml"}
    return {name: timed(lambda p=path: load_program(p, show_warnings=False), repeat) * 1000
            for name, path in files.items()}


def bench_overhead(work: Path, repeat: int) -> dict[str, float]:
    (work / "p").mkdir()
    (work / "p" / "samepack.yaml").write_text(PROGRAM)
    env = {**os.environ, "SAMEPACK_HOME": str(work / "home")}
    def plain():
        subprocess.run([sys.executable, "-c", "pass"], check=True)

    def run():
        subprocess.run([sys.executable, "-m", "samepack", "run", "-f", work / "p"],
                       env=env, check=True, capture_output=True)

    wall = {"python -c pass, wall (s)": timed(plain, repeat), "samepack run -f, wall (s)": timed(run, repeat)}
    cpu = {"python -c pass, cpu (s)": child_cpu(plain, repeat),
           "samepack run -f, cpu (s)": child_cpu(run, repeat)}
    return {**wall, **cpu}


def bench_history(work: Path, writers: int, runs_each: int) -> dict[str, float]:
    history = History(work / "h.sqlite")
    count = 200
    start = time.perf_counter()
    for i in range(count):
        run = history.start_run("bench", "1.0", {"i": i})
        history.finish_run(run, "succeeded")
    runs_per_s = count / (time.perf_counter() - start)
    points = [("loss", MetricPoint(1.0 / (i + 1), i)) for i in range(10_000)]
    start = time.perf_counter()
    history.log_metrics(run, points)
    metrics_per_s = len(points) / (time.perf_counter() - start)
    env = {**os.environ, "SAMEPACK_HOME": str(work / "shared"), "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(runs_each)], env=env)
             for _ in range(writers)]
    codes = [p.wait() for p in procs]
    elapsed = time.perf_counter() - start
    db = sqlite3.connect(work / "shared" / "history.sqlite")
    total = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    ok = db.execute("PRAGMA integrity_check").fetchone()[0] == "ok" and total == writers * runs_each
    return {"runs recorded per s (1 writer)": runs_per_s, "metric points per s (batch)": metrics_per_s,
            f"{writers} writers x {runs_each} runs (s)": elapsed,
            "concurrent history intact": float(ok and not any(codes))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--runs-each", type=int, default=50)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="samepack-bench-") as temp:
        work = Path(temp)
        results = {"load_program (ms)": bench_load(args.repeat),
                   "run overhead": bench_overhead(work, args.repeat),
                   "history": bench_history(work, args.writers, args.runs_each),
                   "report": bench_report(work)}
    for section, values in results.items():
        print(section)
        for name, value in values.items():
            print(f"  {name:40s} {value:12.3f}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
