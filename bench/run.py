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
  env       the environment a locked program's run makes, against the same work by hand:
            cold (no cached environment: `samepack run -f` of a step that imports the locked
            packages) against `uv venv` + `uv pip sync --require-hashes` + the step; warm
            (the cached environment reused) against the step in an existing venv
  reproduce `samepack reproduce` of that program end to end (export, import into an isolated
            store, environment from the lock, two re-runs, comparison) against doing it by
            hand: `uv venv` + `uv pip sync` + the step twice
  listing   `samepack runs list --json --limit 0` of 10,000 runs, against reading the same
            tables with sqlite3 and dumping them as JSON in one process
  report    `runs report` build time and size for 10 and 10,000 runs, beside plotly's own
            self-contained HTML of the same charts (bench/report.py)
Each comparison prints samepack's figure, the peer's from the same run, and their ratio.
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
# Measured as users run it: with the byte-code cache (a machine that turns it off recompiles
# every module at every start, samepack's and the peers' alike).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

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


LOCKED = """apiVersion: samepack.dev/v1
kind: Program
metadata: {name: bench-locked, version: "1.0"}
environment: {lock: requirements.txt}
steps:
  fit:
    run: "python -c 'import six, idna; print(\\"score:\\", len(idna.encode(\\"example.org\\")))'"
    metrics: [{pattern: "^score: (?P<value>\\\\d+)$", name: score}]
"""
STEP = "import six, idna; print('score:', len(idna.encode('example.org')))"


def _uv() -> str:
    from samepack.lock.tool import uv_binary

    return uv_binary()


def locked_project(work: Path) -> Path:
    """A program whose lock (six, idna; hashed by uv) its step imports."""
    project = work / "locked"
    project.mkdir()
    (project / "samepack.yaml").write_text(LOCKED)
    (project / "requirements.in").write_text("six\nidna\n")
    subprocess.run([_uv(), "pip", "compile", "--generate-hashes", "--quiet", "--no-config",
                    "requirements.in", "-o", "requirements.txt"], cwd=project, check=True)
    return project


def _by_hand(work: Path, project: Path, runs: int) -> None:
    venv = work / f"venv-{time.monotonic_ns()}"
    subprocess.run([_uv(), "venv", "--quiet", "--no-config", str(venv)], check=True)
    subprocess.run([_uv(), "pip", "sync", "--quiet", "--no-config", "--require-hashes",
                    "--python", str(venv / "bin" / "python"), str(project / "requirements.txt")],
                   check=True)
    for _ in range(runs):
        subprocess.run([str(venv / "bin" / "python"), "-c", STEP], check=True,
                       capture_output=True)


def bench_env(work: Path, repeat: int) -> dict[str, float]:
    project = locked_project(work)
    homes = iter(range(10_000))

    def cold():
        env = {**os.environ, "SAMEPACK_HOME": str(work / f"cold-{next(homes)}")}
        subprocess.run([sys.executable, "-m", "samepack", "run", "-f", project], env=env,
                       check=True, capture_output=True)

    warm_env = {**os.environ, "SAMEPACK_HOME": str(work / "warm")}
    subprocess.run([sys.executable, "-m", "samepack", "run", "-f", project], env=warm_env,
                   check=True, capture_output=True)
    venv = work / "warm-venv"
    _by_hand(work, project, 0)
    subprocess.run([_uv(), "venv", "--quiet", "--no-config", str(venv)], check=True)
    subprocess.run([_uv(), "pip", "sync", "--quiet", "--no-config", "--require-hashes", "--python",
                    str(venv / "bin" / "python"), str(project / "requirements.txt")], check=True)

    def warm():
        subprocess.run([sys.executable, "-m", "samepack", "run", "-f", project], env=warm_env,
                       check=True, capture_output=True)

    def warm_by_hand():
        subprocess.run([str(venv / "bin" / "python"), "-c", STEP], check=True, capture_output=True)

    return {"samepack run, no cached env (s)": timed(cold, repeat),
            "uv venv + uv pip sync + step (s)": timed(lambda: _by_hand(work, project, 1), repeat),
            "samepack run, cached env (s)": timed(warm, repeat),
            "step in an existing venv (s)": timed(warm_by_hand, repeat)}


def bench_reproduce(work: Path, repeat: int) -> dict[str, float]:
    project = work / "locked"
    env = {**os.environ, "SAMEPACK_HOME": str(work / "repro-home")}
    subprocess.run([sys.executable, "-m", "samepack", "run", "-f", project], env=env,
                   check=True, capture_output=True)

    def reproduce():
        subprocess.run([sys.executable, "-m", "samepack", "reproduce", "bench-locked:1.0",
                        "--report-dir", work / "reports"], env=env, check=True,
                       capture_output=True)

    return {"samepack reproduce (s)": timed(reproduce, repeat),
            "by hand: venv + sync + step twice (s)": timed(lambda: _by_hand(work, project, 2),
                                                          repeat)}


PEER_LISTING = """import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
runs = {r[0]: {"id": r[0], "row": r[1:]} for r in db.execute("SELECT * FROM runs")}
for table in ("steps", "metrics", "logs"):
    for r in db.execute(f"SELECT * FROM {table}"):
        runs[r[0]].setdefault(table, []).append(r[1:])
sys.stdout.write(json.dumps(list(runs.values())))
"""


def bench_listing(work: Path, repeat: int, count: int = 10_000) -> dict[str, float]:
    """A history of ``count`` runs (one step, three metrics, an output tail and an artifact
    each), listed whole by samepack and by the same reads done by hand."""
    home = work / "listing"
    history = History(home / "history.sqlite")
    for i in range(count):
        run = history.start_run("bench", "1.0", {"alpha": i / count, "seed": i})
        history.record_step(run, "train", 0, "2026-01-01T00:00:00Z", 1.0, "succeeded", "line\n" * 3)
        history.log_metrics(run, [("rmse", MetricPoint(0.5)), ("r2", MetricPoint(0.3)),
                                  ("loss", MetricPoint(0.1, 1))])
        history.finish_run(run, "succeeded", [{"path": "model.pkl", "size": 10, "sha256": "0" * 64}])
    history.close()
    env = {**os.environ, "SAMEPACK_HOME": str(home)}

    def samepack_list():
        subprocess.run([sys.executable, "-m", "samepack", "runs", "list", "--json", "--limit", "0"],
                       env=env, check=True, stdout=subprocess.DEVNULL)

    def by_hand():
        subprocess.run([sys.executable, "-c", PEER_LISTING, str(home / "history.sqlite")],
                       check=True, stdout=subprocess.DEVNULL)

    return {f"samepack runs list --json, {count} runs (s)": timed(samepack_list, repeat),
            "sqlite3 + json.dumps of the tables (s)": timed(by_hand, repeat)}


def ratios(results: dict[str, dict[str, float]]) -> list[tuple[str, float, float]]:
    """(what, samepack, peer) pairs: each section's samepack figure beside its peer's."""
    pairs = [("run overhead", "samepack run -f, wall (s)", "python -c pass, wall (s)"),
             ("run overhead", "samepack run -f, cpu (s)", "python -c pass, cpu (s)"),
             ("env", "samepack run, no cached env (s)", "uv venv + uv pip sync + step (s)"),
             ("env", "samepack run, cached env (s)", "step in an existing venv (s)"),
             ("reproduce", "samepack reproduce (s)", "by hand: venv + sync + step twice (s)"),
             ("listing", "samepack runs list --json, 10000 runs (s)",
              "sqlite3 + json.dumps of the tables (s)")]
    return [(f"{section}: {mine} / {peer}", results[section][mine], results[section][peer])
            for section, mine, peer in pairs if section in results]


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
                   "env": bench_env(work, args.repeat),
                   "reproduce": bench_reproduce(work, max(1, args.repeat // 2)),
                   "listing": bench_listing(work, args.repeat),
                   "report": bench_report(work)}
    for section, values in results.items():
        print(section)
        for name, value in values.items():
            print(f"  {name:40s} {value:12.3f}")
    print("samepack beside its peer (ratio = samepack / peer)")
    for what, mine, peer in ratios(results):
        print(f"  {what:78s} {mine:8.3f} {peer:8.3f} {mine / peer:6.2f}x")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
