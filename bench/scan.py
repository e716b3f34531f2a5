"""Benchmark ``samepack scan`` against pipreqs: speed and accuracy, same machine, same run.

    python bench/scan.py                      # every fixture project + a large tree
    python bench/scan.py PATH [PATH...]       # chosen project directories
    python bench/scan.py --no-large --json-out bench/out/scan.json

For each project both tools run as real subprocesses:
  samepack scan --format requirements --used-only PATH     (what the code imports)
  pipreqs --print --mode no-pin --use-local PATH
``--start-up``: only the start-up rows (a small repo, both scan outputs beside pipreqs, and
whether rich's table renderer is loaded for them; goal <= 0.15 s on a quiet machine).
pipreqs runs with --use-local because by default it sends one request to PyPI's JSON API for
every import not installed locally; a benchmark must not depend on (or hammer) the network.
Its answer is then limited to what is installed here (and, offline, to distributions that ship
a ``top_level.txt``, which many modern wheels no longer do). So a second pipreqs score is given,
"pipreqs*": the names pipreqs itself derives from the imports before that local lookup (its
``--debug`` "Found imports" line, same run) -- what its default mode would look up on PyPI,
i.e. its best case with the network. When pipreqs fails on a file it cannot
decode (its default encoding is UTF-8) it is run again with --encoding latin-1 and both
outcomes are reported.

Accuracy: precision, recall and F1 of each tool's distribution names against the project's own
runtime declarations (requirements files, pyproject, setup.*, Pipfile, environment.yml, notebook
``!pip install``), as read by ``samepack scan --json``. The large tree (a copy of installed
packages' ``.py`` files) declares nothing: only its timings count.

samepack keeps its index of installed metadata under ``$SAMEPACK_HOME/cache`` (set here to a
fixed directory in the system temp dir unless already set), as a user's repeated scans would:
the first project of the first run builds it. ``SAMEPACK_HOME=$(mktemp -d) python bench/scan.py``
measures every run cold.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
LARGE_TREE_PACKAGES = ("pandas", "sklearn", "botocore", "IPython", "rich", "click", "_pytest")
RUNTIME_GROUPS = (None, "notebook")


@dataclass
class ToolRun:
    seconds: float  # wall time
    ok: bool
    names: list[str] = field(default_factory=list)
    note: str = ""
    candidates: list[str] = field(default_factory=list)  # pipreqs: names before its local lookup
    cpu_seconds: float = 0.0  # user + system time of the tool and its children


@dataclass
class Score:
    precision: float | None
    recall: float | None
    f1: float | None


@dataclass
class ProjectResult:
    project: str
    files: int
    declared: list[str]
    samepack: ToolRun
    pipreqs: ToolRun
    samepack_score: Score
    pipreqs_score: Score
    pipreqs_candidates_score: Score


def run_tool(command: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    """Wall time and result; the CPU time is attached as ``done.cpu_seconds``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=_env())
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    done.cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, done


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SAMEPACK_DEBUG", None)
    # Measured as users run it: with the byte-code cache (a machine that turns it off recompiles
    # every module at every start, samepack's and pipreqs' alike).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("SAMEPACK_HOME", tempfile.gettempdir() + "/samepack-bench-home")
    return env


def names_of(lines: str) -> list[str]:
    """Distribution names from requirement lines (``pandas>=1.5`` -> ``pandas``)."""
    import re

    found = set()
    for line in lines.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            found.add(canonicalize_name(re.split(r"[\s\[<>=!~;@]", line, maxsplit=1)[0]))
    return sorted(found)


def run_samepack(path: Path) -> ToolRun:
    seconds, done = run_tool([sys.executable, "-m", "samepack", "scan", "--format", "requirements",
                              "--used-only", str(path)])
    note = done.stderr.strip().splitlines()[-1] if done.returncode and done.stderr.strip() else ""
    return ToolRun(seconds, done.returncode == 0, names_of(done.stdout), note, cpu_seconds=done.cpu_seconds)


def run_pipreqs(path: Path) -> ToolRun:
    if importlib.util.find_spec("pipreqs") is None:
        return ToolRun(0.0, False, note="pipreqs is not installed")
    pipreqs = [sys.executable, "-m", "pipreqs.pipreqs"]  # this interpreter's, PATH or not
    base = pipreqs + ["--print", "--mode", "no-pin", "--use-local", "--debug", str(path)]
    seconds, done = run_tool(base)
    if done.returncode == 0:
        return ToolRun(seconds, True, names_of(done.stdout), candidates=_candidates(done.stderr),
                       cpu_seconds=done.cpu_seconds)
    failure = _last_error(done.stderr)
    if "UnicodeDecodeError" in done.stderr:
        retry_seconds, retry = run_tool(pipreqs + ["--encoding", "latin-1"] + base[len(pipreqs):])
        note = f"default run failed after {seconds:.2f}s ({failure}); rerun with --encoding latin-1"
        if retry.returncode == 0:
            return ToolRun(retry_seconds, True, names_of(retry.stdout), note, _candidates(retry.stderr),
                           retry.cpu_seconds)
        return ToolRun(retry_seconds, False, note=note + f" failed too ({_last_error(retry.stderr)})")
    return ToolRun(seconds, False, note=f"failed: {failure}")


def _candidates(stderr: str) -> list[str]:
    for line in stderr.splitlines():
        if "Found imports:" in line:
            return names_of("\n".join(line.split("Found imports:", 1)[1].split(",")))
    return []


def _last_error(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1][:160] if lines else "no output"


def declared_names(path: Path) -> tuple[list[str], int]:
    """The project's runtime declarations and how many source files it has (samepack's reader)."""
    done = subprocess.run([sys.executable, "-m", "samepack", "scan", "--json", "--no-installed", str(path)],
                          capture_output=True, text=True, env=_env())
    if done.returncode:
        return [], 0
    scan = json.loads(done.stdout)
    names = {d["name"] for d in scan["declared"] if d["group"] in RUNTIME_GROUPS}
    return sorted(names), scan["files_scanned"]


def score(predicted: list[str], truth: list[str], ok: bool) -> Score:
    if not truth:
        return Score(None, None, None)
    if not ok:
        return Score(0.0, 0.0, 0.0)
    hits = len(set(predicted) & set(truth))
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(round(precision, 3), round(recall, 3), round(f1, 3))


def bench_project(path: Path, label: str | None = None) -> ProjectResult:
    declared, files = declared_names(path)
    ours = run_samepack(path)
    theirs = run_pipreqs(path)
    return ProjectResult(label or path.name, files, declared, ours, theirs,
                         score(ours.names, declared, ours.ok), score(theirs.names, declared, theirs.ok),
                         score(theirs.candidates, declared, theirs.ok))


def make_large_tree(parent: Path, packages: tuple[str, ...] = LARGE_TREE_PACKAGES) -> Path:
    """Copy the ``.py`` files of some installed packages into ``parent/site-packages-copy``."""
    source = Path(sysconfig.get_paths()["purelib"])
    target = parent / "site-packages-copy"
    for package in packages:
        if (source / package).is_dir():
            shutil.copytree(source / package, target / package,
                            ignore=lambda d, names: [n for n in names if not (n.endswith(".py") or (Path(d) / n).is_dir())
                                                     or n == "__pycache__"])
    return target


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.3f}"


def report(results: list[ProjectResult]) -> str:
    rows = [f"{'project':<24}{'files':>6}{'samepack s':>11}{'pipreqs s':>10}{'speed-up':>9}"
            f"{'cpu s/s':>14}{'F1 samepack':>12}{'F1 pipreqs':>11}{'F1 pipreqs*':>12}"]
    for r in results:
        ratio = r.pipreqs.seconds / r.samepack.seconds if r.samepack.seconds and r.pipreqs.ok else None
        rows.append(
            f"{r.project:<24}{r.files:>6}{r.samepack.seconds:>11.2f}"
            f"{(f'{r.pipreqs.seconds:.2f}' if r.pipreqs.ok else 'failed'):>10}"
            f"{(f'{ratio:.1f}x' if ratio else 'n/a'):>9}"
            f"{f'{r.samepack.cpu_seconds:.2f}/{r.pipreqs.cpu_seconds:.2f}':>14}{_fmt(r.samepack_score.f1):>12}"
            f"{_fmt(r.pipreqs_score.f1):>11}{_fmt(r.pipreqs_candidates_score.f1):>12}")
    ours = sum(r.samepack.seconds for r in results)
    theirs = sum(r.pipreqs.seconds for r in results if r.pipreqs.ok)
    ours_ok = sum(r.samepack.seconds for r in results if r.pipreqs.ok)
    scored = [r for r in results if r.samepack_score.f1 is not None]
    mean = lambda values: sum(values) / len(values) if values else None  # noqa: E731
    rows.append(f"{'total':<24}{sum(r.files for r in results):>6}{ours:>11.2f}{theirs:>10.2f}"
                f"{(f'{theirs / ours_ok:.1f}x' if ours_ok else 'n/a'):>9}{'':>14}"
                f"{_fmt(mean([r.samepack_score.f1 for r in scored])):>12}"
                f"{_fmt(mean([r.pipreqs_score.f1 for r in scored])):>11}"
                f"{_fmt(mean([r.pipreqs_candidates_score.f1 for r in scored])):>12}")
    rows.append("(wall seconds; speed-up over projects where pipreqs succeeded; cpu s/s = CPU seconds "
                "samepack/pipreqs incl. children; F1 = mean over projects that declare requirements; "
                "pipreqs* = pipreqs' names before its local lookup)")
    notes = [f"  {r.project}: pipreqs {r.pipreqs.note}" for r in results if r.pipreqs.note]
    notes += [f"  {r.project}: samepack {r.samepack.note}" for r in results if r.samepack.note]
    return "\n".join(rows + (["notes:"] + notes if notes else []))


START_UP_PROJECT = REPO / "fixtures" / "wine-quality"  # a small real-looking repo: 2 sources


def _loads_table_renderer(args: list[str]) -> bool:
    """Whether ``samepack ARGS`` imports rich's table renderer (``-X importtime``)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "samepack", *args],
                          capture_output=True, text=True, env=_env())
    return any(line.rstrip().endswith(("rich.table", "rich.console"))
               for line in done.stderr.splitlines())


def bench_start_up(repeat: int = 9, path: Path = START_UP_PROJECT) -> str:
    """A small repo scanned by samepack (requirements and JSON) and by pipreqs, taking turns,
    medians of whole processes, with the load average; and whether rich is loaded."""
    import statistics

    commands = {
        "samepack scan --format requirements": [sys.executable, "-m", "samepack", "scan",
                                                "--format", "requirements", str(path)],
        "samepack scan --json": [sys.executable, "-m", "samepack", "scan", "--json", str(path)],
        "pipreqs --print --use-local": [sys.executable, "-m", "pipreqs.pipreqs", "--print",
                                        "--mode", "no-pin", "--use-local", str(path)],
    }
    if importlib.util.find_spec("pipreqs") is None:
        del commands["pipreqs --print --use-local"]
    subprocess.run(commands["samepack scan --json"], capture_output=True, env=_env())  # the index
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            seconds, done = run_tool(command)
            times[name].append(seconds)
            cpu[name].append(done.cpu_seconds)
    load = os.getloadavg()[0]
    medians = {name: statistics.median(values) for name, values in times.items()}
    peer = medians.get("pipreqs --print --use-local")
    rows = [f"start-up on {path.name} (medians of {repeat}, turns taken; load {load:.2f}; "
            "goal <= 0.15 s on a quiet machine; CPU time too, which a busy machine inflates less)"]
    for name, seconds in medians.items():
        ratio = f"  {seconds / peer:5.2f}x pipreqs" if peer and not name.startswith("pipreqs") else ""
        rows.append(f"  {name:40s} {seconds:7.3f} s (cpu {statistics.median(cpu[name]):.3f} s)"
                    f"{ratio}   load {load:.2f}")
    for flag in (["--format", "requirements"], ["--json"]):
        loaded = _loads_table_renderer(["scan", *flag, str(path)])
        rows.append(f"  scan {' '.join(flag)}: rich table renderer loaded: {'yes' if loaded else 'no'}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, help="project directories (default: fixtures/*)")
    parser.add_argument("--no-large", action="store_true", help="skip the large tree")
    parser.add_argument("--start-up", action="store_true",
                        help="only the start-up rows: a small repo, samepack beside pipreqs")
    parser.add_argument("--json-out", type=Path, help="also write the results as JSON here")
    parser.add_argument("--corpus", type=Path, help="a directory of real projects (bench/corpus.py "
                        "writes it): recall and precision with their declared files removed")
    args = parser.parse_args(argv)
    if args.corpus:
        return corpus_main(args)
    if args.start_up:
        print(bench_start_up())
        return 0
    paths = args.paths or sorted(p for p in (REPO / "fixtures").iterdir() if p.is_dir())
    results = [bench_project(path) for path in paths]
    if not args.paths and not args.no_large:
        with tempfile.TemporaryDirectory(prefix="samepack-bench-") as scratch:
            tree = make_large_tree(Path(scratch))
            results.append(bench_project(tree, "large tree (site-pkgs)"))
    print(report(results))
    if not args.paths:
        print(bench_start_up())
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps([asdict(r) for r in results], indent=2, sort_keys=True) + "\n")
    return 0


def run_samepack_lock_names(path: Path) -> ToolRun:
    """What package-env would lock from the code: every non-optional dependency."""
    seconds, done = run_tool([sys.executable, "-m", "samepack", "scan", "--format", "requirements",
                              str(path)])
    return ToolRun(seconds, done.returncode == 0, names_of(done.stdout), cpu_seconds=done.cpu_seconds)


def corpus_main(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(REPO / "bench"))
    import scan_corpus

    projects = sorted(p for p in args.corpus.iterdir() if p.is_dir())
    with tempfile.TemporaryDirectory(prefix="samepack-corpus-") as scratch:
        results = [scan_corpus.measure(p, Path(scratch), run_samepack_lock_names, run_pipreqs)
                   for p in projects]
    print(scan_corpus.report(results))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps([asdict(r) for r in results], indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
