"""Files packed in worker processes give the same bundle as packed in this process, secrets and
special files found there are left out all the same, and chunks are cut by the stream alone."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import signal
import tarfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from samepack.bundle.system.children import write_pieces
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


def test_a_worker_that_dies_inside_a_batch_is_a_one_line_error(tmp_path: Path,
                                                                monkeypatch) -> None:
    """The writer reads a batch's tar straight from the pipe: a stream that ends early there
    is the worker's death, not a short bundle."""
    entry = register(_project(tmp_path / "many", 600))

    def dies_halfway(batches, check, passed_before, pipe):
        runs, dropped = batch.pack(batches[0], check, passed_before)
        shape = [run if isinstance(run, int) else (sum(map(len, run[0])), run[1])
                 for run in runs]
        record = pickle.dumps((shape, dropped))
        os.write(pipe, batch._HEAD.pack(len(record), 0) + record + b"x" * 100)
        os._exit(9)

    monkeypatch.setattr(batch, "_serve", dies_halfway)
    with pytest.raises(ResourceError, match="packing worker .* ended in the middle of a batch"):
        export_bundle(entry, tmp_path / "out.tgz", ExportOptions(runs="none"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many"]


def test_bytes_read_into_the_chunk_give_the_frames_written_ones_do(tmp_path: Path) -> None:
    """write_from (a file, a pipe giving short reads) and write cut the same chunks."""
    stream = bytes(range(256)) * 40 + b"tail" * 999
    (tmp_path / "stream").write_bytes(stream)

    def frames(feed) -> bytes:
        out = io.BytesIO()
        with ThreadPoolExecutor(max_workers=2) as pool:
            writer = SegmentWriter(out, "zstd", None, pool, chunk=1000)
            feed(writer)
            writer.close()
        return out.getvalue()

    whole = frames(lambda writer: writer.write(stream))

    def from_file(writer: SegmentWriter) -> None:
        writer.write(stream[:10])
        with open(tmp_path / "stream", "rb", buffering=0) as handle:
            handle.seek(10)
            assert writer.write_from(handle, len(stream) + 5) == len(stream) - 10  # to its end

    def from_pipe(writer: SegmentWriter) -> None:
        read_end, write_end = os.pipe()

        def trickle() -> None:  # small writes: the reader gets short reads
            for at in range(0, len(stream), 777):
                os.write(write_end, stream[at:at + 777])
            os.close(write_end)

        feeder = threading.Thread(target=trickle)
        feeder.start()
        with io.FileIO(read_end, "rb") as pipe:
            assert writer.write_from(pipe, len(stream)) == len(stream)
        feeder.join()

    assert frames(from_file) == whole
    assert frames(from_pipe) == whole


def test_gathered_writes_survive_short_writes(tmp_path: Path) -> None:
    """write_pieces sends many pieces (more than one writev takes, empty ones among them)
    through a pipe whose writes a timer's signals keep interrupting: every byte, in order."""
    pieces = [bytes([index % 251]) * (index % 700) for index in range(5000)]
    expected = b"".join(pieces)
    read_end, write_end = os.pipe()
    received = bytearray()

    def drain() -> None:
        with io.FileIO(read_end, "rb") as pipe:
            while data := pipe.read(4096):
                received.extend(data)
                time.sleep(0.0002)  # slower than the writer: the pipe fills up

    reader = threading.Thread(target=drain)
    reader.start()
    previous = signal.signal(signal.SIGALRM, lambda *_: None)
    signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
    try:
        write_pieces(write_end, pieces)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        os.close(write_end)
    reader.join()
    assert bytes(received) == expected
