"""Small files packed in worker processes give the same bundle as packed in this process, and
secrets found there are left out all the same."""

from __future__ import annotations

import tarfile
from pathlib import Path

from samepack.bundle import batch
from samepack.bundle.export import ExportOptions, export_bundle

from .conftest import register

PROGRAM = """\
apiVersion: samepack.dev/v1
kind: Program
metadata: {name: many, version: "1"}
steps:
  main: {run: "python main.py"}
"""


def _project(root: Path, count: int) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "samepack.yaml").write_text(PROGRAM)
    (root / "main.py").write_text("print('hi')\n")
    for index in range(count):
        (root / "src" / f"m{index:04d}.py").write_text(f"VALUE = {index}\n" * (index % 40 + 1))
    (root / "src" / "leak.py").write_text("KEY = 'AKIAIOSFODNN7EXAMPLE'\n")
    (root / "src" / "tool.sh").write_text("#!/bin/sh\n")
    (root / "src" / "tool.sh").chmod(0o755)
    return root


def test_worker_processes_give_the_same_bytes(tmp_path: Path, monkeypatch) -> None:
    entry = register(_project(tmp_path / "many", 3 * batch.BATCH_FILES))
    pools = []

    def counted_pool(workers=None):
        pools.append(batch.process_pool(workers))
        return pools[-1]

    monkeypatch.setattr("samepack.bundle.writer.process_pool", counted_pool)
    parallel = export_bundle(entry, tmp_path / "parallel.tgz", ExportOptions(runs="none"))
    assert len(pools) == 1  # the code part, packed in worker processes
    monkeypatch.setattr(batch, "PARALLEL_FROM", 10**9)
    monkeypatch.setattr("samepack.bundle.writer.PARALLEL_FROM", 10**9)
    serial = export_bundle(entry, tmp_path / "serial.tgz", ExportOptions(runs="none"))
    assert (tmp_path / "parallel.tgz").read_bytes() == (tmp_path / "serial.tgz").read_bytes()
    assert ("src/leak.py", "AWS access key id") in parallel.skipped
    assert parallel.skipped == serial.skipped
    with tarfile.open(tmp_path / "parallel.tgz") as archive:
        names = archive.getnames()
        assert archive.getmember("code/src/tool.sh").mode == 0o755
    assert "code/src/leak.py" not in names
    assert sum(name.startswith("code/src/m") for name in names) == 3 * batch.BATCH_FILES
