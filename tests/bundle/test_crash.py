"""Export and import killed with SIGKILL at random moments never leave a partial bundle at the
target or a half-registered program; the next run cleans up and succeeds."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from samepack.bundle.format.manifest import MANIFEST_NAME
from tests.bundle.conftest import register

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("bundle-crash")]
SEEDS = [1, 2, 3, 4]


@pytest.fixture(scope="module")
def crash_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("crash") / "heavy"
    (project / "src").mkdir(parents=True)
    (project / "data").mkdir()
    (project / "samepack.yaml").write_text(
        "apiVersion: samepack.dev/v1\nkind: Program\nmetadata: {name: heavy, version: '1'}\n"
        "datasets: {blob: {path: data/blob.bin}}\nsteps: {main: {run: python src/m0.py}}\n")
    rng = random.Random(0)
    for index in range(600):
        words = " ".join(rng.choice(["alpha", "beta", "gamma", "delta"]) for _ in range(300))
        (project / "src" / f"m{index}.py").write_text(f"# {words}\nprint({index})\n")
    (project / "data" / "blob.bin").write_bytes(rng.randbytes(16 * 1024 * 1024))
    return project


def start(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "samepack", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_during(process: subprocess.Popen, started: Callable[[], bool], extra: float) -> bool:
    """SIGKILL ``process`` ``extra`` seconds after ``started()`` first holds (its work has
    begun: a temp file or staging directory exists); True if it was still running."""
    deadline = time.monotonic() + 60
    while not started() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(extra)
    if process.poll() is not None:
        return False
    process.send_signal(signal.SIGKILL)
    process.wait()
    return True


def temps(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if ".samepack-tmp-" in p.name]


@pytest.mark.parametrize("seed", SEEDS)
def test_export_killed_leaves_no_partial_bundle(seed: int, crash_project: Path, tmp_path: Path,
                                                samepack_home: Path) -> None:
    register(crash_project)
    env = {**os.environ, "SAMEPACK_HOME": str(samepack_home)}
    out = tmp_path / "heavy.tgz"
    delay = random.Random(seed).uniform(0.0, 0.4)
    args = ("export", "program", "-n", "heavy", "-o", str(out), "--include-data", "--runs", "none")
    killed = kill_during(start(*args, env=env), lambda: bool(temps(tmp_path)), delay)
    print(f"export killed {delay:.2f}s into writing: {killed}")
    assert _survivors(str(out)) == []  # no packing worker outlives the killed export
    if killed and out.exists():
        # The kill landed after the rename (the process was still exiting): the bundle there
        # must then be whole.
        from samepack.bundle.read.reader import read_bundle

        read_bundle(out)
    done = subprocess.run([sys.executable, "-m", "samepack", *args, "--force"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert temps(tmp_path) == []  # stale temps of the killed run were cleaned
    from samepack.bundle.read.reader import read_bundle

    assert read_bundle(out).manifest.name == "heavy"


def _survivors(marker: str, wait: float = 5.0) -> list[int]:
    """Processes still running whose command line names ``marker`` (after up to ``wait`` s)."""
    import psutil

    deadline = time.monotonic() + wait
    while True:
        found = []
        for process in psutil.process_iter(["pid", "cmdline"]):
            try:
                if any(marker in part for part in process.info["cmdline"] or []):
                    found.append(process.pid)
            except psutil.Error:
                continue
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.fixture(scope="module")
def crash_bundle(crash_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("crash-home")
    out = home / "heavy.tgz"
    env = {**os.environ, "SAMEPACK_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "samepack", "create", "program", "-f",
                    str(crash_project / "samepack.yaml")], env=env, check=True,
                   capture_output=True)
    subprocess.run([sys.executable, "-m", "samepack", "export", "program", "-n", "heavy", "-o",
                    str(out), "--include-data"], env=env, check=True, capture_output=True)
    return out


def check_store(home: Path, bundle: Path) -> None:
    """Either no program, or a complete one (every member present with the right size)."""
    from samepack.bundle.format.layout import read_manifest

    _, manifest = read_manifest(bundle)
    programs = list((home / "programs").glob("*/*")) if (home / "programs").exists() else []
    for program in programs:
        assert (program / "entry.json").is_file() and (program / MANIFEST_NAME).is_file()
        for member in manifest.members():
            assert (program / member.path).stat().st_size == member.size


@pytest.mark.parametrize("seed", SEEDS)
def test_import_killed_leaves_no_half_registered_program(seed: int, crash_bundle: Path,
                                                         samepack_home: Path) -> None:
    env = {**os.environ, "SAMEPACK_HOME": str(samepack_home)}
    delay = random.Random(seed).uniform(0.0, 0.3)
    staging = samepack_home / "staging"
    killed = kill_during(start("import", str(crash_bundle), env=env),
                         lambda: staging.is_dir() and any(staging.iterdir()), delay)
    print(f"import killed {delay:.2f}s into staging: {killed}")
    check_store(samepack_home, crash_bundle)
    done = subprocess.run([sys.executable, "-m", "samepack", "import", str(crash_bundle)],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    check_store(samepack_home, crash_bundle)
    assert len(list((samepack_home / "programs").glob("*/*"))) == 1
    assert not list((samepack_home / "staging").glob("*/.samepack-import-*"))
