"""Benchmark: ``samepack package-env`` against ``uv pip compile --generate-hashes`` on the same
input, cold (empty caches) and warm (each tool's cache filled by a first run), each the median
of ``--repeat`` turns taken, then
``samepack env create`` from a warm cache against ``uv venv`` + ``uv pip sync --require-hashes``
of the same lock (turns taken, medians). ``--pip-compile`` adds plain
``pip-compile --generate-hashes`` (minutes with hashes on this kind of machine).

    python bench/lock.py                 # small input (rich), real package index
    python bench/lock.py --set big       # numpy pandas scikit-learn mlflow
    python bench/lock.py --find-links DIR --no-index   # offline, against a local wheel dir

samepack's figure includes what uv's does not: starting Python, the scan, reading existing
lock files, writing requirements.in, the lock and env.json. The goal is within 1.2x of uv.
Every run locks a fresh copy of the project, so samepack's own last lock steers nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SETS = {"small": ["rich"], "big": ["numpy", "pandas", "scikit-learn", "mlflow"]}


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(args[:4])} failed:\n{done.stderr[-2000:]}")
    return elapsed


def fresh_project(work: Path, name: str, requirements: list[str]) -> Path:
    project = work / name
    if project.exists():
        shutil.rmtree(project)
    project.mkdir()
    (project / "requirements.in").write_text("".join(f"{r}\n" for r in requirements))
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="small")
    parser.add_argument("--find-links", action="append", default=[])
    parser.add_argument("--no-index", action="store_true")
    parser.add_argument("--repeat", type=int, default=5, help="turns of each measurement")
    parser.add_argument("--pip-compile", action="store_true", help="also time pip-compile")
    args = parser.parse_args()
    index = [a for link in args.find_links for a in ("--find-links", link)]
    index += ["--no-index"] if args.no_index else []
    requirements = SETS[args.set]
    import uv

    uv_bin = uv.find_uv_bin()
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    with tempfile.TemporaryDirectory(prefix="samepack-bench-") as name:
        work = Path(name)
        base = {**os.environ, "SAMEPACK_HOME": str(work / "home"),
                "PIP_CACHE_DIR": str(work / "pip-cache")}
        ours_env = {**base, "UV_CACHE_DIR": str(work / "uv-cache-samepack")}
        theirs_env = {**base, "UV_CACHE_DIR": str(work / "uv-cache-uv")}
        samepack = [sys.executable, "-m", "samepack", "package-env"]
        compile_args = [uv_bin, "pip", "compile", "requirements.in", "--generate-hashes",
                        "--no-header", "--no-config", "--quiet", "--python-version", python,
                        "--output-file", "requirements.txt", *index]
        times: dict[str, float] = {}
        loads: dict[str, float] = {}
        colds: dict[str, list[float]] = {"samepack": [], "uv": []}
        for turn in range(args.repeat):  # turns taken, each tool with an empty cache of its own
            project = fresh_project(work, "project", requirements)
            colds["samepack"].append(timed([*samepack, str(project), *index], work,
                                           {**ours_env, "UV_CACHE_DIR": str(work / f"cold-s{turn}")}))
            compare = fresh_project(work, "compare", requirements)
            colds["uv"].append(timed(compile_args, compare,
                                     {**theirs_env, "UV_CACHE_DIR": str(work / f"cold-u{turn}")}))
        times["samepack cold"], times["uv cold"] = map(statistics.median, colds.values())
        loads["cold"] = os.getloadavg()[0]
        timed([*samepack, str(fresh_project(work, "project", requirements)), *index], work,
              ours_env)  # fills each tool's own cache, as a first lock does
        timed(compile_args, fresh_project(work, "compare", requirements), theirs_env)
        warms: dict[str, list[float]] = {"samepack": [], "uv": []}
        for turn in range(args.repeat):
            project = fresh_project(work, "project", requirements)
            warms["samepack"].append(timed([*samepack, str(project), *index], work, ours_env))
            compare = fresh_project(work, "compare", requirements)
            warms["uv"].append(timed(compile_args, compare, theirs_env))
        times["samepack warm"], times["uv warm"] = map(statistics.median, warms.values())
        loads["warm"] = os.getloadavg()[0]
        pins = sum(1 for line in (project / "requirements.txt").read_text().splitlines()
                   if "==" in line)
        if args.pip_compile:
            compare = fresh_project(work, "pip-compile", requirements)
            times["pip-compile cold"] = timed(
                [sys.executable, "-m", "piptools", "compile", "--generate-hashes", "--quiet",
                 "--output-file", "requirements.txt", "requirements.in", *index], compare, base)
        samepack_cmd = [sys.executable, "-m", "samepack"]
        lock = project / "requirements.txt"
        timed([*samepack_cmd, "env", "create", str(project), "--prefix", str(work / "env-warm"),
               *index], work, ours_env)  # fills samepack's uv cache, as a first env create does
        timed([uv_bin, "venv", "--quiet", "--no-config", str(work / "venv-warm")], work, theirs_env)
        timed([uv_bin, "pip", "sync", "--quiet", "--no-config", "--require-hashes", "--python",
               str(work / "venv-warm" / "bin" / "python"), str(lock), *index], work, theirs_env)
        creates, syncs = [], []
        for turn in range(args.repeat):  # turns taken, warm caches, fresh prefixes
            creates.append(timed([*samepack_cmd, "env", "create", str(project), "--prefix",
                                  str(work / f"env-{turn}"), *index], work, ours_env))
            venv = work / f"venv-{turn}"
            start = time.perf_counter()
            timed([uv_bin, "venv", "--quiet", "--no-config", str(venv)], work, theirs_env)
            timed([uv_bin, "pip", "sync", "--quiet", "--no-config", "--require-hashes",
                   "--python", str(venv / "bin" / "python"), str(lock), *index], work, theirs_env)
            syncs.append(time.perf_counter() - start)
        create, sync = statistics.median(creates), statistics.median(syncs)
        create_load = os.getloadavg()[0]

    print(f"input: {', '.join(requirements)} ({pins} pinned packages, hashes on)")
    for round_name in ("cold", "warm"):
        ours, theirs = times[f"samepack {round_name}"], times[f"uv {round_name}"]
        print(f"{round_name} (median of {args.repeat}): samepack package-env {ours:7.2f} s   "
              f"uv pip compile {theirs:7.2f} s"
              f"   ratio samepack/uv {ours / theirs:5.2f}x   load {loads[round_name]:.2f}")
    if "pip-compile cold" in times:
        print(f"cold: pip-compile --generate-hashes {times['pip-compile cold']:7.2f} s")
    print(f"env create, warm cache (median of {args.repeat}, turns taken): samepack env create "
          f"{create:7.2f} s   uv venv + uv pip sync --require-hashes {sync:7.2f} s   "
          f"ratio {create / sync:5.2f}x   load {create_load:.2f}")

if __name__ == "__main__":
    main()
