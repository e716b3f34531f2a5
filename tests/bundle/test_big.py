"""A multi-GB data file under --include-data: memory stays flat (peak RSS of the exporting
process, measured by the kernel) and the bundle is whole. The file is sparse, so the test
needs no real disk space for its input."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from samepack.bundle.format.layout import read_manifest, segments
from tests.bundle.conftest import register

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("bundle-big")]
GIB = 1024 ** 3
PEAK_RSS_LIMIT = 200 * 1024 * 1024
MARK = 1024 * 1024


def sparse_project(root: Path, size: int) -> tuple[Path, str]:
    project = root / "bigdata"
    (project / "data").mkdir(parents=True)
    (project / "samepack.yaml").write_text(
        "apiVersion: samepack.dev/v1\nkind: Program\nmetadata: {name: bigdata, version: '1'}\n"
        "datasets: {big: {path: data/big.bin}}\nsteps: {main: {run: python -c pass}}\n")
    big = project / "data" / "big.bin"
    marks = {0: os.urandom(MARK), size // 2: os.urandom(MARK), size - MARK: os.urandom(MARK)}
    with open(big, "wb") as handle:
        handle.truncate(size)
        for offset, data in marks.items():  # a little real data among the holes
            handle.seek(offset)
            handle.write(data)
    digest, zeros, offset = hashlib.sha256(), bytes(MARK), 0
    while offset < size:  # the expected digest, computed without reading the file
        digest.update(marks.get(offset, zeros))
        offset += MARK
    return project, digest.hexdigest()


# Runs samepack and reports its own peak RSS (VmHWM, reset at exec, so the forked copy of the
# test process does not count) as the last line on stderr.
MEASURED = ("import atexit, sys\n"
            "def peak():\n"
            "    line = next(l for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
            "    sys.stderr.write('\\nVmHWM ' + line.split()[1] + '\\n')\n"
            "atexit.register(peak)\n"
            "from samepack.cli import main\n"
            "sys.argv = ['samepack'] + sys.argv[1:]\n"
            "main()\n")


def run_measured(args: list[str], env: dict) -> tuple[int, int, str]:
    """Exit code, peak RSS in bytes of the samepack process itself, and stderr."""
    done = subprocess.run([sys.executable, "-c", MEASURED, *args], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = int(done.stderr.strip().splitlines()[-1].split()[1]) * 1024
    return done.returncode, peak, done.stderr


def test_multi_gib_sparse_file_exports_with_flat_memory(tmp_path: Path,
                                                        samepack_home: Path) -> None:
    size = 2 * GIB
    project, expected = sparse_project(tmp_path, size)
    register(project)
    out = tmp_path / "big.tgz"
    env = {**os.environ, "SAMEPACK_HOME": str(samepack_home)}
    started = time.monotonic()
    code, peak, stderr = run_measured(
        ["export", "program", "-n", "bigdata", "-o", str(out), "--include-data", "--runs", "none"],
        env)
    elapsed = time.monotonic() - started
    assert code == 0, stderr
    assert peak < PEAK_RSS_LIMIT, f"peak RSS {peak / 1e6:.0f} MB"
    _, manifest = read_manifest(out)
    member = next(m for m in manifest.members() if m.path == "data/files/data/big.bin")
    assert (member.size, member.sha256) == (size, expected)
    assert [s.part for s in segments(out)] == ["program", "data"]  # no code but the program file
    assert out.stat().st_size < 64 * 1024 * 1024  # the holes compressed
    print(f"exported {size // GIB} GiB in {elapsed:.1f}s, peak RSS {peak / 1e6:.0f} MB")
