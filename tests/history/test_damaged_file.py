"""A history file SQLite cannot use as it is (not a database, cut short, a damaged page, a
folder, another program's database, a newer format, read-only, locked): every command says so
in one line naming the file and the fix, exits non-zero, shows no traceback and leaves the
file's bytes as they were; ``samepack run`` fails before its steps do any work where opening
the history shows the damage, and when it records them where only a page it writes is
damaged."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.history.helpers import (assert_one_line_error, digest, history_of, marker_program,
                                   overwrite_page, samepack_as_owner)


@pytest.fixture
def history_file(samepack_home: Path) -> Path:
    return samepack_home / "history.sqlite"


@pytest.mark.parametrize("command", [("runs", "list"), ("runs", "list", "--json"),
                                     ("runs", "show", "abc123"), ("runs", "report", "-o", "r.html")])
def test_a_file_that_is_not_a_database(samepack_proc, history_file, tmp_path, command):
    history_file.write_bytes(b"garbage\n" * 100)
    before = digest(history_file)
    result = samepack_proc(*command, cwd=tmp_path)
    assert_one_line_error(result, 3, str(history_file), "the run history is damaged",
                          "file is not a database")
    assert f"hint: move it aside (mv {history_file} {history_file}.damaged)" in result.stderr
    assert digest(history_file) == before
    assert not (tmp_path / "r.html").exists()


def test_a_history_cut_short(samepack_proc, history_file, tmp_path):
    history_of(history_file, runs=40)
    data = history_file.read_bytes()
    history_file.write_bytes(data[:len(data) // 2])
    before = digest(history_file)
    listed = samepack_proc("runs", "list")
    assert_one_line_error(listed, 3, str(history_file), "damaged", "malformed")
    run = samepack_proc("run", "-f", marker_program(tmp_path / "project"))
    assert_one_line_error(run, 3, str(history_file), "damaged")
    assert not (tmp_path / "project" / "ran").exists()
    assert digest(history_file) == before


def test_a_damaged_page_is_one_line_and_the_steps_work_is_kept(samepack_proc, history_file,
                                                                 tmp_path):
    """The steps table's page is damaged: starting the run succeeds (its page is sound),
    recording its first step does not. The run ends with one line naming the file, the step's
    work stays where it did it, and no check of the whole file slows every run (a history's
    pages are not read at each start: that grows with the history)."""
    history_of(history_file)
    overwrite_page(history_file, "steps")
    run = samepack_proc("run", "-f", marker_program(tmp_path / "project"))
    assert_one_line_error(run, 3, str(history_file), "the run history is damaged")
    assert (tmp_path / "project" / "ran").exists()
    before = digest(history_file)
    listed = samepack_proc("runs", "list")  # the listing reads the damaged page too
    assert_one_line_error(listed, 3, str(history_file), "damaged")
    assert digest(history_file) == before


def test_a_folder_where_the_history_belongs(samepack_proc, history_file):
    history_file.mkdir()
    result = samepack_proc("runs", "list")
    assert_one_line_error(result, 3, str(history_file), "is a folder, not a file")
    assert list(history_file.iterdir()) == []


def test_another_programs_database_is_not_made_a_history(samepack_proc, history_file):
    database = sqlite3.connect(history_file)
    database.execute("CREATE TABLE experiments (id INTEGER PRIMARY KEY, name TEXT)")
    database.execute("INSERT INTO experiments (name) VALUES ('mine')")
    database.commit()
    database.close()
    before = digest(history_file)
    result = samepack_proc("runs", "list")
    assert_one_line_error(result, 3, str(history_file), "not a samepack run history",
                          "experiments")
    assert digest(history_file) == before


def test_a_history_from_a_newer_samepack(samepack_proc, history_file, tmp_path):
    history_of(history_file)
    database = sqlite3.connect(history_file)
    database.execute("PRAGMA user_version = 99")
    database.close()
    before = digest(history_file)
    for command in (("runs", "list"), ("run", "-f", marker_program(tmp_path / "project"))):
        result = samepack_proc(*command)
        assert_one_line_error(result, 3, str(history_file), "format 99 is newer")
    assert not (tmp_path / "project" / "ran").exists()
    assert digest(history_file) == before


def test_a_locked_history_fails_a_run_after_the_busy_timeout(samepack_proc, history_file,
                                                             tmp_path):
    """Another process holds the history's write lock: reading goes on (WAL), a run waits
    SAMEPACK_HISTORY_BUSY_TIMEOUT seconds for it, then fails before its steps."""
    ids = history_of(history_file)
    holder = sqlite3.connect(history_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        env = {"SAMEPACK_HISTORY_BUSY_TIMEOUT": "0.5"}
        listed = samepack_proc("runs", "list", "--json", env=env)
        assert listed.returncode == 0, listed.stderr
        assert ids[0] in listed.stdout
        run = samepack_proc("run", "-f", marker_program(tmp_path / "project"), env=env)
        assert_one_line_error(run, 9, str(history_file), "locked by another process for 0.5 s")
        assert "SAMEPACK_HISTORY_BUSY_TIMEOUT" in run.stderr
        assert not (tmp_path / "project" / "ran").exists()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_busy_timeout_that_is_not_seconds(samepack_proc):
    result = samepack_proc("runs", "list", env={"SAMEPACK_HISTORY_BUSY_TIMEOUT": "soon"})
    assert_one_line_error(result, 3, "SAMEPACK_HISTORY_BUSY_TIMEOUT='soon'")


def test_a_read_only_history_is_listed_but_takes_no_run(history_file, samepack_home, tmp_path):
    ids = history_of(history_file)
    project = marker_program(tmp_path / "project")
    history_file.chmod(0o444)
    before = digest(history_file)
    try:
        listed = samepack_as_owner("runs", "list", "--json", home=samepack_home, cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        assert ids[-1] in listed.stdout
        run = samepack_as_owner("run", "-f", project, home=samepack_home, cwd=tmp_path)
        assert_one_line_error(run, 3, str(history_file), "the run history is read-only")
        assert f"chmod u+w {history_file}" in run.stderr
        assert not (project / "ran").exists()
        assert digest(history_file) == before
        for name in ("history.sqlite-wal", "history.sqlite-shm"):
            (samepack_home / name).unlink(missing_ok=True)
        samepack_home.chmod(0o555)  # the folder too: SQLite cannot keep its -wal and -shm there
        listed = samepack_as_owner("runs", "list", home=samepack_home, cwd=tmp_path)
        assert_one_line_error(listed, 3, str(history_file), "the run history's folder is read-only")
        assert f"make {samepack_home} writable" in listed.stderr
        assert digest(history_file) == before
    finally:
        samepack_home.chmod(0o755)
        history_file.chmod(0o644)


def test_the_live_report_of_a_damaged_history_answers_its_error(history_file, capfd):
    """``runs report --serve`` builds each page anew: a history damaged meanwhile gets an
    HTTP 500 naming it, and a warning here, not a traceback."""
    import threading
    import urllib.error
    import urllib.request

    from samepack.insights.build import history_report
    from samepack.insights.serve import make_server

    history_file.write_bytes(b"garbage\n" * 100)
    server = make_server(0, lambda: history_report(live=True))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for page in ("/", "/version"):
            with pytest.raises(urllib.error.HTTPError) as answered:
                urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}{page}",
                                       timeout=10)
            assert answered.value.code == 500
            assert "the run history is damaged" in answered.value.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    stderr = capfd.readouterr().err
    assert "Traceback" not in stderr and f"warning: {history_file}: the run history" in stderr
