"""Histories made by samepack and then damaged the ways files get damaged, and the checks
every damaged history must pass: a one-line error naming the file, no traceback, the file's
bytes as they were."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from samepack.history import History
from tests.program.helpers import py, step, write_program


def history_of(path: Path, runs: int = 3) -> list[str]:
    """A history at ``path`` of ``runs`` finished runs (a step, a metric, an artifact each),
    checkpointed into the one file; their ids, oldest first."""
    history = History(path)
    ids = []
    for index in range(runs):
        run_id = history.start_run("demo", "1.0", {"i": index}, host={"cpus": 2},
                                   tags={"team": "a"})
        history.log_metric(run_id, "loss", 1.0 / (index + 1), stage="train")
        history.record_step(run_id, "train", 0, None, 0.5, "succeeded", f"epoch {index}\n")
        history.finish_run(run_id, "succeeded", [{"path": "model.json", "size": 2, "sha256": "0" * 64}])
        ids.append(run_id)
    history.close()
    checkpointed(path)
    return ids


def checkpointed(path: Path) -> None:
    """Everything in the WAL written into the file itself (still in WAL mode, as samepack
    keeps it); the last connection's close removes the WAL."""
    database = sqlite3.connect(path)
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    assert not Path(f"{path}-wal").exists()


def set_column(path: Path, sql: str, *args: object) -> None:
    """Change the history as another program would (``sql`` on the file, then checkpointed)."""
    database = sqlite3.connect(path)
    with database:
        database.execute(sql, args)
    database.close()
    checkpointed(path)


def overwrite_page(path: Path, table: str) -> None:
    """Fill the first page of ``table`` with bytes no SQLite writes."""
    database = sqlite3.connect(path)
    page_size = database.execute("PRAGMA page_size").fetchone()[0]
    root = database.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                            (table,)).fetchone()[0]
    database.close()
    with open(path, "r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xab" * page_size)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def marker_program(directory: Path) -> Path:
    """A program whose one step leaves ``ran`` in ``directory``: it did its work."""
    write_program(directory, "steps:\n" + step("touch", py("open('ran', 'w').write('x')")),
                  name="marker")
    return directory


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, *parts: str) -> str:
    """The command failed with exit ``code`` and one ``error:`` line holding every part (and at
    most a ``hint:`` line after it), no traceback; returns the error line."""
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    index = lines.index(errors[0])
    assert all(line.startswith("hint: ") for line in lines[index + 1:]), result.stderr
    assert len(lines[index + 1:]) <= 1, result.stderr
    for part in parts:
        assert part in errors[0], (part, errors[0])
    return errors[0]


def hint_of(result: subprocess.CompletedProcess) -> str:
    return next(line for line in result.stderr.splitlines() if line.startswith("hint: "))


def samepack_as_owner(*args: object, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    """``samepack ARGS`` as a real process to which file modes apply: when the tests run as
    root, without the capabilities that let root write a read-only file or folder (dropped
    from the child's bounding set before it starts samepack, so it holds them no more)."""
    return subprocess.run([sys.executable, "-m", "samepack", *map(str, args)],
                          env={**os.environ, "SAMEPACK_HOME": str(home)}, cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          preexec_fn=_without_override if os.geteuid() == 0 else None)


def _without_override() -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "the capabilities of root could not be dropped")


def assert_show_and_compare_refuse(samepack_proc, history_file: Path, first: str, damaged: str,
                                   problem: str) -> None:
    """``runs show`` of the damaged run and ``runs compare`` with it: one line naming the run
    and the problem, the hint saying it was changed outside samepack."""
    shown = samepack_proc("runs", "show", damaged[:8])
    assert_one_line_error(shown, 3, str(history_file), f"run {damaged}: {problem}")
    assert hint_of(shown).startswith("hint: it was changed outside samepack")
    compared = samepack_proc("runs", "compare", first[:8], damaged[:8])
    assert_one_line_error(compared, 3, f"run {damaged}: {problem}")


def assert_listings_leave_it_out(samepack_proc, history_file: Path, tmp_path: Path, first: str,
                                 damaged: str, last: str, warning: str) -> None:
    """The table and the report leave the damaged run out with ``warning``; the others stay
    listed and readable."""
    table = samepack_proc("runs", "list")
    assert table.returncode == 0 and warning in table.stderr, table.stderr
    assert "Traceback" not in table.stderr
    assert first[:8] in table.stdout and last[:8] in table.stdout
    assert damaged[:8] not in table.stdout
    report = samepack_proc("runs", "report", "-o", tmp_path / "runs.html")
    assert report.returncode == 0 and warning in report.stderr, report.stderr
    assert samepack_proc("runs", "show", first[:8]).returncode == 0


def fix_from_the_hint(samepack_proc, history_file: Path, damaged: str) -> None:
    """Run the ``sqlite3`` command the hint of ``runs show`` gives."""
    import re

    hint = hint_of(samepack_proc("runs", "show", damaged))
    command = re.search(rf'sqlite3 {re.escape(str(history_file))} "(.*)"$', hint)
    assert command, hint
    set_column(history_file, command.group(1))
