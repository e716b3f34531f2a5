"""Benchmark: the same requirements locked by samepack (uv) and by plain
``pip-compile --generate-hashes``, then ``samepack env create`` from a warm cache.

    python bench/lock.py                 # small input (rich), real package index
    python bench/lock.py --set big       # numpy pandas scikit-learn mlflow (pip-compile: minutes)
    python bench/lock.py --find-links DIR --no-index   # offline, against a local wheel dir

Each tool gets a fresh cache of its own, so both lock cold; env create runs twice and the
second (warm cache, fresh prefix) is reported.
"""

from __future__ import annotations

import argparse
import os
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


def lock_in_process(requirements: list[str], args: argparse.Namespace, cache: Path) -> float:
    """The uv locker alone (no interpreter start, no scan), cold, through samepack's API."""
    from samepack.lock import IndexOptions, LockRequest, get_locker

    os.environ["UV_CACHE_DIR"] = str(cache)
    request = LockRequest(tuple(requirements),
                          index=IndexOptions(tuple(args.find_links), args.no_index))
    start = time.perf_counter()
    get_locker("uv").lock(request)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="small")
    parser.add_argument("--find-links", action="append", default=[])
    parser.add_argument("--no-index", action="store_true")
    args = parser.parse_args()
    index = [a for link in args.find_links for a in ("--find-links", link)]
    index += ["--no-index"] if args.no_index else []

    with tempfile.TemporaryDirectory(prefix="samepack-bench-") as name:
        work = Path(name)
        env = {**os.environ, "UV_CACHE_DIR": str(work / "uv-cache"),
               "PIP_CACHE_DIR": str(work / "pip-cache"), "SAMEPACK_HOME": str(work / "home")}
        project = work / "project"
        project.mkdir()
        (project / "requirements.in").write_text("".join(f"{r}\n" for r in SETS[args.set]))
        compare = work / "compare"
        compare.mkdir()
        (compare / "requirements.in").write_text((project / "requirements.in").read_text())

        lock_only = lock_in_process(SETS[args.set], args, work / "uv-cache-lock-only")
        samepack = [sys.executable, "-m", "samepack"]
        uv_time = timed([*samepack, "package-env", str(project), *index], work, env)
        pip_time = timed([sys.executable, "-m", "piptools", "compile", "--generate-hashes",
                          "--quiet", "--output-file", "requirements.txt", "requirements.in",
                          *index], compare, env)
        timed([*samepack, "env", "create", str(project), "--prefix", str(work / "env1"), *index],
              work, env)
        create_time = timed([*samepack, "env", "create", str(project), "--prefix",
                             str(work / "env2"), *index], work, env)
        pins = sum(1 for line in (project / "requirements.txt").read_text().splitlines()
                   if "==" in line)

    print(f"input: {', '.join(SETS[args.set])} ({pins} pinned packages, hashes on)")
    print(f"samepack package-env (uv):      {uv_time:8.2f} s  (start, scan, lock, write)")
    print(f"  of which the uv locker alone:  {lock_only:8.2f} s")
    print(f"pip-compile --generate-hashes:  {pip_time:8.2f} s")
    print(f"ratio pip-compile / samepack:   {pip_time / uv_time:8.1f} x")
    print(f"samepack env create (warm):     {create_time:8.2f} s")


if __name__ == "__main__":
    main()
