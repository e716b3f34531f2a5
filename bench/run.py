"""Benchmark programs, runs and the run history.

    python bench/run.py                        # all measurements, a table on stdout
    python bench/run.py --json-out bench/out/run.json

Measured, each as the median of several repetitions on this machine:
  load      load_program for each format (samepack.yaml, SAME notebook, AME old/new)
  overhead  `samepack run -f` of a one-step program (`python -c pass`) as a real process,
            against running `python -c pass` directly: what samepack adds per run, as wall
            time, as CPU time (user + system; steadier on a busy machine) and, with valgrind
            installed, as instructions executed (the same on any load); and beside the floor
            of such a run in Python: a process importing only the libraries a run imports
  history-writes  start_run+finish_run per second, metric points logged per second (one
            batch), and N processes writing runs at once into one history (integrity checked)
  env       the environment a locked program's run makes, against the same work by hand:
            cold (no cached environment: `samepack run -f` of a step that imports the locked
            packages) against `uv venv` + `uv pip sync --require-hashes` + the step; warm
            (the cached environment reused) against the step in an existing venv
  reproduce `samepack reproduce` of that program end to end (export, import into an isolated
            store, environment from the lock, two re-runs, comparison) against doing it by
            hand: `uv venv` + `uv pip sync` + the step twice
  history   with 100 and with 10,000 runs in the store: `runs list`, `runs list --json`,
            `runs show`, `runs compare` of three runs, `runs report --limit 5` (each should
            take as long with 10,000 runs as with 100), and `runs list --json --limit 0` of
            every run against reading the same tables with sqlite3 and dumping them as JSON
  report    `runs report` build time and size for 10 and 10,000 runs, beside plotly's own
            self-contained HTML of the same charts (bench/report.py)
Samepack's runs and its peer's take turns; each figure is a median, printed with the 1-minute
load average when it was taken. `--only SECTION` runs some sections.
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


LOADS: dict[str, float] = {}  # figure -> 1-minute load average when it was measured


def alternated(actions: dict[str, object], repeat: int, cpu: bool = False) -> dict[str, float]:
    """Median seconds of each action, the actions taking turns (samepack, peer, samepack, ...)
    so that a change in the machine's load touches both alike; ``cpu``: also the median CPU
    seconds (user + system) of their subprocesses, as ``NAME, cpu``."""
    walls: dict[str, list[float]] = {name: [] for name in actions}
    cpus: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            action()
            walls[name].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    results = {name: statistics.median(times) for name, times in walls.items()}
    if cpu:
        results.update({f"{name}, cpu": statistics.median(times) for name, times in cpus.items()})
    load = os.getloadavg()[0]
    LOADS.update({name: load for name in results})
    return results


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
    """The fixed cost of a run: the whole ``samepack run -f`` of a step that does nothing,
    against that step alone (its difference is what samepack adds)."""
    (work / "p").mkdir()
    (work / "p" / "samepack.yaml").write_text(PROGRAM)
    env = {**os.environ, "SAMEPACK_HOME": str(work / "home")}

    def plain():
        subprocess.run([sys.executable, "-c", "pass"], check=True)

    def run():
        subprocess.run([sys.executable, "-m", "samepack", "run", "-f", work / "p"],
                       env=env, check=True, capture_output=True)

    run()  # registers the file and checks it once, as a first run does
    libraries = [sys.executable, "-c", "import " + ",".join(libraries_of_a_run(work / "p", env))]

    def floor():
        subprocess.run(libraries, check=True)

    found = alternated({"samepack run -f (s)": run, "python -c pass (s)": plain,
                        FLOOR: floor}, repeat * 3, cpu=True)
    found["fixed cost: run minus step (s)"] = found["samepack run -f (s)"] - found["python -c pass (s)"]
    LOADS["fixed cost: run minus step (s)"] = LOADS["samepack run -f (s)"]
    counted = {"samepack run -f, instructions (M)": [sys.executable, "-m", "samepack", "run", "-f",
                                                     str(work / "p")],
               "python -c pass, instructions (M)": [sys.executable, "-c", "pass"],
               FLOOR_INSTRUCTIONS: libraries}
    for name, argv in counted.items():
        instructions = instructions_of(argv, env)
        if instructions is not None:
            found[name] = instructions / 1e6
    if "samepack run -f, instructions (M)" in found:
        found["fixed cost: run minus step, instructions (M)"] = (
            found["samepack run -f, instructions (M)"] - found["python -c pass, instructions (M)"])
    return found


# The floor of a run's fixed cost in Python: a process that only imports the standard library
# modules and packages a run imports (click, sqlite3, subprocess, dataclasses, ...), no samepack.
FLOOR = "python importing only the libraries a run imports (s)"
FLOOR_INSTRUCTIONS = "python importing only the libraries a run imports, instructions (M)"


def libraries_of_a_run(program: Path, env: dict[str, str]) -> list[str]:
    """The modules other than samepack's that ``samepack run -f program`` imports, in import
    order, as ``python -X importtime`` lists them (platform-specific ones it only tried left
    out by importing each first)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "samepack", "run", "-f",
                           str(program)], env=env, capture_output=True, text=True, check=True)
    names = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name and not name.startswith(("samepack", "encodings", "site", "_distutils")):
                names.append(name)
    usable = subprocess.run([sys.executable, "-c", "import importlib, sys\n"
                             "for name in sys.argv[1:]:\n"
                             "    try: importlib.import_module(name); print(name)\n"
                             "    except ImportError: pass\n", *dict.fromkeys(names)],
                            capture_output=True, text=True, check=True)
    return usable.stdout.split()


def instructions_of(argv: list[str], env: dict[str, str]) -> int | None:
    """Instructions the process runs (its children not counted), by valgrind's callgrind: the
    same figure on a quiet machine and a busy one, where wall time on a shared VM drifts by
    a third. None without valgrind."""
    import re
    import shutil

    if not shutil.which("valgrind"):
        return None
    with tempfile.TemporaryDirectory() as temp:
        done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={temp}/out",
                               *argv], env=env, capture_output=True, text=True, check=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    return int(found.group(1).replace(",", "")) if found else None


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

    by_hand = alternated({"samepack run, no cached env (s)": cold,
                          "uv venv + uv pip sync + step (s)": lambda: _by_hand(work, project, 1)},
                         repeat)
    cached = alternated({"samepack run, cached env (s)": warm,
                         "step in an existing venv (s)": warm_by_hand}, repeat)
    return {**by_hand, **cached}


def bench_reproduce(work: Path, repeat: int) -> dict[str, float]:
    project = work / "locked"
    env = {**os.environ, "SAMEPACK_HOME": str(work / "repro-home")}
    subprocess.run([sys.executable, "-m", "samepack", "run", "-f", project], env=env,
                   check=True, capture_output=True)

    def reproduce():
        subprocess.run([sys.executable, "-m", "samepack", "reproduce", "bench-locked:1.0",
                        "--report-dir", work / "reports"], env=env, check=True,
                       capture_output=True)

    return alternated({"samepack reproduce (s)": reproduce,
                       "by hand: venv + sync + step twice (s)": lambda: _by_hand(work, project, 2)},
                      repeat)


PEER_LISTING = """import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
runs = {r[0]: {"id": r[0], "row": r[1:]} for r in db.execute("SELECT * FROM runs")}
for table in ("steps", "metrics", "logs"):
    for r in db.execute(f"SELECT * FROM {table}"):
        runs[r[0]].setdefault(table, []).append(r[1:])
sys.stdout.write(json.dumps(list(runs.values())))
"""


def fill_history(home: Path, count: int) -> list[str]:
    """A history of ``count`` runs (one step, three metrics, an output tail and an artifact
    each), written in one transaction; the run ids, oldest first."""
    import hashlib
    import json as _json

    history = History(home / "history.sqlite")
    history.close()
    db = sqlite3.connect(home / "history.sqlite", isolation_level=None)
    ids = [hashlib.sha256(f"run {i}".encode()).hexdigest()[:32] for i in range(count)]
    db.execute("BEGIN")
    for i, run_id in enumerate(ids):
        started = f"2026-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.{i:06d}Z"
        db.execute("INSERT INTO runs (id, program, version, params, status, started_at, ended_at, "
                   "artifacts, host, tags) VALUES (?, 'bench', '1.0', ?, 'succeeded', ?, ?, ?, "
                   "'{}', '{}')",
                   (run_id, _json.dumps({"alpha": i / count, "seed": i}), started, started,
                    _json.dumps([{"path": "model.pkl", "size": 10, "sha256": "0" * 64}])))
        db.execute("INSERT INTO steps VALUES (?, 0, 'train', 0, ?, 1.0, 'succeeded')",
                   (run_id, started))
        db.execute("INSERT INTO logs VALUES (?, 'train', ?)", (run_id, "line\n" * 3))
        db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, NULL, 'train')",
                       [(run_id, 0, "rmse", 0.5, 0), (run_id, 1, "r2", 0.3, 0),
                        (run_id, 2, "loss", 0.1, 1)])
    db.execute("COMMIT")
    db.close()
    return ids


def bench_history_queries(work: Path, repeat: int, sizes: tuple[int, ...] = (100, 10_000)
                          ) -> dict[str, float]:
    """Every history command against histories of ``sizes`` runs: what it shows is the same
    few runs (the newest 20, one run, three runs, a report of five), so its time should not
    grow with the runs it does not show. The whole listing as JSON is beside the same reads
    done by hand with sqlite3 and json in one process."""
    results: dict[str, float] = {}
    for count in sizes:
        home = work / f"history-{count}"
        ids = fill_history(home, count)
        env = {**os.environ, "SAMEPACK_HOME": str(home)}
        newest = [ids[-1][:8], ids[-2][:8], ids[-3][:8]]
        commands = {
            "runs list": ["runs", "list"],
            "runs list --json": ["runs", "list", "--json"],
            "runs show": ["runs", "show", newest[0]],
            "runs compare (3 runs)": ["runs", "compare", *newest],
            "runs report --limit 5": ["runs", "report", "--limit", "5", "-o",
                                      str(work / f"report-{count}.html")],
            "runs list --json --limit 0 (all)": ["runs", "list", "--json", "--limit", "0"],
        }
        actions = {f"{name}, {count} runs (s)": (
            lambda a=args: subprocess.run([sys.executable, "-m", "samepack", *a], env=env,
                                          check=True, stdout=subprocess.DEVNULL))
            for name, args in commands.items()}
        actions[f"sqlite3 + json.dumps of the tables, {count} runs (s)"] = (
            lambda: subprocess.run([sys.executable, "-c", PEER_LISTING,
                                    str(home / "history.sqlite")],
                                   check=True, stdout=subprocess.DEVNULL))
        results.update(alternated(actions, repeat))
    return results


HISTORY_COMMANDS = ("runs list", "runs list --json", "runs show", "runs compare (3 runs)",
                    "runs report --limit 5")


def ratios(results: dict[str, dict[str, float]]) -> list[tuple[str, str, str, str]]:
    """(section, what, samepack's figure, the peer's): each samepack figure beside its peer's
    from the same run; for the history commands the peer is the same command on a history of
    100 runs (flat: a ratio near 1)."""
    pairs = [("run overhead", "samepack run -f (s)", "python -c pass (s)"),
             ("run overhead", "samepack run -f (s), cpu", "python -c pass (s), cpu"),
             ("run overhead", "samepack run -f, instructions (M)",
              "python -c pass, instructions (M)"),
             ("run overhead", "samepack run -f (s)", FLOOR),
             ("run overhead", "samepack run -f, instructions (M)", FLOOR_INSTRUCTIONS),
             ("env", "samepack run, no cached env (s)", "uv venv + uv pip sync + step (s)"),
             ("env", "samepack run, cached env (s)", "step in an existing venv (s)"),
             ("reproduce", "samepack reproduce (s)", "by hand: venv + sync + step twice (s)"),
             ("history", "runs list --json --limit 0 (all), 10000 runs (s)",
              "sqlite3 + json.dumps of the tables, 10000 runs (s)")]
    pairs += [("history", f"{name}, 10000 runs (s)", f"{name}, 100 runs (s)")
              for name in HISTORY_COMMANDS]
    return [(section, mine, peer) for section, mine, peer in pairs
            if section in results and mine in results[section] and peer in results[section]]


SECTIONS = ("load", "overhead", "history-writes", "env", "reproduce", "history", "report")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--runs-each", type=int, default=50)
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--only", action="append", choices=SECTIONS,
                        help="run only these sections (repeatable)")
    args = parser.parse_args()
    chosen = set(args.only or SECTIONS)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="samepack-bench-") as temp:
        work = Path(temp)
        if "load" in chosen:
            results["load_program (ms)"] = bench_load(args.repeat)
        if "overhead" in chosen:
            results["run overhead"] = bench_overhead(work, args.repeat)
        if "history-writes" in chosen:
            results["history writes"] = bench_history(work, args.writers, args.runs_each)
        if "env" in chosen or "reproduce" in chosen:
            results["env"] = bench_env(work, args.repeat)
        if "reproduce" in chosen:
            results["reproduce"] = bench_reproduce(work, max(1, args.repeat // 2))
        if "history" in chosen:
            results["history"] = bench_history_queries(work, args.repeat)
        if "report" in chosen:
            results["report"] = bench_report(work)
    for section, values in results.items():
        print(section)
        for name, value in values.items():
            load = f"   load {LOADS[name]:.2f}" if name in LOADS else ""
            print(f"  {name:58s} {value:10.3f}{load}")
    print("samepack beside its peer (ratio = samepack / peer; load: 1-minute load average)")
    for section, mine, peer in ratios(results):
        a, b = results[section][mine], results[section][peer]
        print(f"  {mine:52s} {a:8.3f}  {peer:52s} {b:8.3f}  {a / b:6.2f}x"
              f"  load {LOADS.get(mine, os.getloadavg()[0]):.2f}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
