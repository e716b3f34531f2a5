"""Files packed in worker processes give the same bundle as packed in this process, secrets and
special files found there are left out all the same, and chunks are cut by the stream alone."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from samepack.bundle.write import batch
from samepack.bundle.write.export import ExportOptions, export_bundle
from samepack.bundle.write.writer import SegmentWriter
from samepack.errors import InputError, ResourceError

from .conftest import one_step_program, register

PROGRAM = one_step_program("many")


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

    class Counted(batch.ForkedPackers):
        def __init__(self, *args, **options) -> None:
            super().__init__(*args, **options)
            pools.append([pid for pid, _ in self.workers])

    monkeypatch.setattr(batch, "ForkedPackers", Counted)
    parallel = export_bundle(entry, tmp_path / "parallel.tgz", ExportOptions(runs="none"))
    assert len(pools) == 1 and len(pools[0]) >= 2  # the code part, packed in worker processes
    for pid in pools[0]:  # reaped: none is left behind
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    monkeypatch.setattr(batch, "PARALLEL_FROM", 10**9)
    monkeypatch.setattr("samepack.bundle.write.writer.PARALLEL_FROM", 10**9)
    serial = export_bundle(entry, tmp_path / "serial.tgz", ExportOptions(runs="none"))
    assert (tmp_path / "parallel.tgz").read_bytes() == (tmp_path / "serial.tgz").read_bytes()
    assert ("src/leak.py", "AWS access key id") in parallel.skipped
    assert parallel.skipped == serial.skipped
    with tarfile.open(tmp_path / "parallel.tgz") as archive:
        names = archive.getnames()
        assert archive.getmember("code/src/tool.sh").mode == 0o755
    assert "code/src/leak.py" not in names
    assert sum(name.startswith("code/src/m") for name in names) == 3 * batch.BATCH_FILES


def test_files_over_the_batch_budget_give_the_same_bytes(tmp_path: Path, monkeypatch) -> None:
    """Files a batch has no room for are packed by the writer itself, in the same place."""
    entry = register(_project(tmp_path / "many", 600))
    normal = export_bundle(entry, tmp_path / "normal.tgz", ExportOptions(runs="none"))
    monkeypatch.setattr(batch, "BATCH_BYTES", 300)
    tight = export_bundle(entry, tmp_path / "tight.tgz", ExportOptions(runs="none"))
    assert (tmp_path / "normal.tgz").read_bytes() == (tmp_path / "tight.tgz").read_bytes()
    assert tight.skipped == normal.skipped


def test_a_worker_that_dies_is_a_one_line_error_and_leaves_nothing(tmp_path: Path,
                                                                   monkeypatch) -> None:
    entry = register(_project(tmp_path / "many", 600))
    monkeypatch.setattr(batch, "_serve", lambda *args: os._exit(9))  # as if killed
    target = tmp_path / "out.tgz"
    with pytest.raises(ResourceError, match="packing worker .* ended before its work was done"):
        export_bundle(entry, target, ExportOptions(runs="none"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many"]  # no bundle, no temp file


def test_an_error_in_a_worker_is_raised_here(tmp_path: Path, monkeypatch) -> None:
    entry = register(_project(tmp_path / "many", 600))

    def broken(items, *args):
        raise InputError(f"{items[0][1]}: cannot be read", hint="fix it")

    monkeypatch.setattr(batch, "pack", broken)  # the workers inherit it
    with pytest.raises(InputError, match="cannot be read") as raised:
        export_bundle(entry, tmp_path / "out.tgz", ExportOptions(runs="none"))
    assert raised.value.hint == "fix it"
    assert not (tmp_path / "out.tgz").exists()


def test_special_files_are_left_out_without_blocking(tmp_path: Path) -> None:
    project = _project(tmp_path / "many", 3)
    os.mkfifo(project / "src" / "pipe")
    (project / "src" / "dangling.py").symlink_to(project / "nowhere.py")
    result = export_bundle(register(project), tmp_path / "out.tgz", ExportOptions(runs="none"))
    assert ("src/pipe", "not a regular file") in result.skipped
    assert ("src/dangling.py", "symbolic link (bundles hold regular files only)") in result.skipped


def test_chunks_are_cut_at_stream_offsets_whatever_the_pieces(tmp_path: Path) -> None:
    """The frames depend on the tar stream alone, not on how it was handed to the writer."""
    stream = bytes(range(256)) * 40 + b"tail" * 999

    def frames(cuts: list[int]) -> bytes:
        out = io.BytesIO()
        with ThreadPoolExecutor(max_workers=2) as pool:
            writer = SegmentWriter(out, "gzip", None, pool, chunk=1000)
            start = 0
            for cut in cuts + [len(stream)]:
                writer.write(stream[start:cut])
                start = cut
            writer.close()
        return out.getvalue()

    whole = frames([])
    assert frames([1, 999, 1000, 1001, 5000]) == whole
    assert frames(list(range(7, len(stream), 733))) == whole
    decoded = gzip.decompress(whole)
    assert decoded == stream
