"""A run whose rows hold a value of a type samepack never writes there (SQLite keeps any value
in any column): a blob where samepack writes text, text where it writes a number, NULL in the
``id`` key. Listings go on without the run and warn, ``runs show``/``compare`` of it fail in
one line naming the run, the table and column and the fix, the fix given works, and the file
keeps its bytes until the user makes it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from samepack.history import History
from samepack.history.damage import DamagedRunError
from tests.history.helpers import (assert_listings_leave_it_out, assert_one_line_error,
                                   assert_show_and_compare_refuse, digest, fix_from_the_hint,
                                   hint_of, history_of, marker_program, set_column)

WRONG_TYPES = [  # (what is changed for the run :run, the sixth of seven, what the error says)
    ("UPDATE runs SET status = CAST(status AS BLOB) WHERE id = :run",
     "status holds a blob (X'737563636565646564'), not text"),
    ("UPDATE runs SET program = X'64656d6f' WHERE id = :run",
     "program holds a blob (X'64656D6F'), not text"),
    ("UPDATE runs SET started_at = X'3230' WHERE id = :run",
     "started_at holds a blob (X'3230'), not text or NULL"),
    ("UPDATE runs SET source = X'00' WHERE id = :run", "source holds a blob (X'00'), not text"),
    ("UPDATE runs SET params = CAST('{}' AS BLOB) WHERE id = :run",
     "params holds a blob (X'7B7D'), not text"),
    ("UPDATE runs SET git_dirty = 'yes' WHERE id = :run",
     "git_dirty holds text ('yes'), not an integer or NULL"),
    ("UPDATE steps SET exit_code = 'zero' WHERE run_id = :run",
     "steps rowid 6: exit_code holds text ('zero'), not an integer or NULL"),
    ("UPDATE steps SET duration_s = 'slow' WHERE run_id = :run",
     "steps rowid 6: duration_s holds text ('slow'), not a number or NULL"),
    ("UPDATE steps SET name = X'74' WHERE run_id = :run",
     "steps rowid 6: name holds a blob (X'74'), not text"),
    ("UPDATE metrics SET step = 'x' WHERE run_id = :run",
     "metrics rowid 6: step holds text ('x'), not an integer"),
    ("UPDATE metrics SET value = X'3030' WHERE run_id = :run",
     "metrics rowid 6: value holds a blob (X'3030'), not a number"),
    ("UPDATE metrics SET name = X'6c' WHERE run_id = :run",
     "metrics rowid 6: name holds a blob (X'6C'), not text"),
    ("UPDATE metrics SET timestamp = 'soon' WHERE run_id = :run",
     "metrics rowid 6: timestamp holds text ('soon'), not an integer or NULL"),
    ("UPDATE logs SET tail = X'6c' WHERE run_id = :run",
     "logs rowid 6: tail holds a blob (X'6C'), not text"),
]
WRONG_TYPE_IDS = ["blob-status", "blob-program", "blob-started-at", "blob-source", "blob-params",
                  "text-git-dirty", "text-exit-code", "text-duration", "blob-step-name",
                  "text-metric-step", "blob-metric-value", "blob-metric-name",
                  "text-timestamp", "blob-output-tail"]


@pytest.fixture
def history_file(samepack_home: Path) -> Path:
    return samepack_home / "history.sqlite"


def _changed(path: Path, sql: str, run_id: str) -> None:
    set_column(path, sql.replace(":run", f"'{run_id}'"))


@pytest.mark.parametrize("sql,problem", WRONG_TYPES, ids=WRONG_TYPE_IDS)
def test_a_value_of_a_wrong_type(samepack_proc, history_file, tmp_path, sql, problem):
    ids = history_of(history_file, runs=7)
    first, damaged, last = ids[0], ids[5], ids[6]
    _changed(history_file, sql, damaged)
    before = digest(history_file)
    assert_show_and_compare_refuse(samepack_proc, history_file, first, damaged, problem)
    warning = f"warning: {history_file}: run {damaged}: {problem}"
    others = [ids[6], *ids[4::-1]]  # newest first (a blob started_at sorts the run first)
    for limit, listed_ids in (("0", others), ("3", others[:2])):  # tables read whole; looked up
        listed = samepack_proc("runs", "list", "--json", "--limit", limit)
        assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
        assert [run["id"] for run in json.loads(listed.stdout)] == listed_ids
        assert warning in listed.stderr, listed.stderr
        assert f"samepack runs show {damaged[:8]}" in listed.stderr
    assert_listings_leave_it_out(samepack_proc, history_file, tmp_path, first, damaged, last,
                                 warning)
    assert digest(history_file) == before


@pytest.mark.parametrize("sql", [sql for sql, _ in WRONG_TYPES], ids=WRONG_TYPE_IDS)
def test_the_fix_a_wrong_type_names_works(samepack_proc, history_file, sql):
    _, damaged, _ = history_of(history_file)
    _changed(history_file, sql, damaged)
    fix_from_the_hint(samepack_proc, history_file, damaged)
    shown = samepack_proc("runs", "show", damaged, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["id"] == damaged


def test_a_run_without_an_id(samepack_proc, history_file, tmp_path):
    """SQLite allows NULL in a primary key that is not INTEGER: the run cannot be named by id,
    so it is named by its rowid, and the fix gives it an id."""
    first, damaged, last = history_of(history_file)
    set_column(history_file, "UPDATE runs SET id = NULL WHERE id = ?", damaged)
    before = digest(history_file)
    warning = f"warning: {history_file}: the run at rowid 2 of runs: id holds NULL, not text"
    listed = samepack_proc("runs", "list", "--json")
    assert listed.returncode == 0 and warning in listed.stderr, listed.stderr
    assert [run["id"] for run in json.loads(listed.stdout)] == [last, first]
    for command in (("runs", "list"), ("runs", "report", "-o", tmp_path / "runs.html")):
        result = samepack_proc(*command)
        assert result.returncode == 0 and warning in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert digest(history_file) == before
    command = re.search(rf'give it an id: sqlite3 {re.escape(str(history_file))} "(.*)"\)$',
                        listed.stderr.splitlines()[0])
    assert command, listed.stderr
    set_column(history_file, command.group(1))
    fixed = samepack_proc("runs", "list", "--json")
    assert fixed.returncode == 0 and "warning" not in fixed.stderr, fixed.stderr
    assert len(json.loads(fixed.stdout)) == 3


def test_a_run_whose_id_is_a_blob_is_shown_by_its_prefix(samepack_proc, history_file):
    first, damaged, last = history_of(history_file)
    set_column(history_file, "UPDATE runs SET id = CAST(id AS BLOB) WHERE id = ?", damaged)
    before = digest(history_file)
    shown = samepack_proc("runs", "show", damaged[:8])
    assert_one_line_error(shown, 3, str(history_file), "the run at rowid 2 of runs: id holds a blob")
    listed = samepack_proc("runs", "list", "--json")
    assert listed.returncode == 0 and "id holds a blob" in listed.stderr, listed.stderr
    assert [run["id"] for run in json.loads(listed.stdout)] == [last, first]
    assert digest(history_file) == before
    command = re.search(r'"(UPDATE runs SET id = CAST\(id AS TEXT\) WHERE rowid = 2)"$',
                        hint_of(shown))
    assert command, shown.stderr
    set_column(history_file, command.group(1))
    fixed = samepack_proc("runs", "show", damaged[:8], "--json")
    assert fixed.returncode == 0 and json.loads(fixed.stdout)["metrics"] == {"loss": 0.5}


@pytest.mark.parametrize("older", [True, False], ids=["older-half", "newer-half"])
def test_a_listing_made_in_two_processes(history_file, older):
    """A blob in either half of a listing made in two processes at once: it is made again in
    one, the run left out and told of once."""
    ids = history_of(history_file, runs=6)
    damaged = ids[1] if older else ids[4]
    set_column(history_file, "UPDATE steps SET status = X'01' WHERE run_id = ?", damaged)
    history = History(history_file)
    told: list[DamagedRunError] = []
    listed = json.loads(history.list_runs_json(limit=0, parallel=True, damaged=told.append))
    assert [run["id"] for run in listed] == [i for i in reversed(ids) if i != damaged]
    assert [error.run_id for error in told] == [damaged]
    rowid = ids.index(damaged) + 1  # one step a run, in the order they ran
    assert told[0].column == f"steps rowid {rowid}: status"
    with pytest.raises(DamagedRunError,
                       match=f"run {damaged}: steps rowid {rowid}: status holds a blob"):
        history.list_runs_json(limit=0, parallel=True)
    for listing in (history.list_run_dicts, history.list_runs):
        with pytest.raises(DamagedRunError, match="status holds a blob"):
            listing(limit=0)


def test_export_refuses_a_run_of_a_wrong_type(samepack_proc, history_file, tmp_path):
    project = marker_program(tmp_path / "project")
    assert samepack_proc("run", "-f", project).returncode == 0
    set_column(history_file, "UPDATE steps SET exit_code = 'zero'")
    before = digest(history_file)
    bundle = tmp_path / "marker.tgz"
    refused = samepack_proc("export", "program", "-n", "marker", "--runs", "all", "-o", bundle)
    assert_one_line_error(refused, 3, str(history_file), "exit_code holds text ('zero')")
    assert not bundle.exists()
    assert digest(history_file) == before
