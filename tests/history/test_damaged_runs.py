"""A run whose row holds what samepack never writes (a JSON column that is not JSON or not of
its shape, a metric point that is not a number): listings go on without it and warn, ``runs
show`` of it says what is wrong and how to fix it, the fix given works, and nothing in the
file changes until the user makes it."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from samepack.history import History
from samepack.history.damage import DamagedRunError
from tests.history.helpers import (assert_listings_leave_it_out, assert_one_line_error,
                                   assert_show_and_compare_refuse, digest, fix_from_the_hint,
                                   hint_of, history_of, marker_program, set_column)

REPO = Path(__file__).resolve().parents[2]

DAMAGES = [  # (column, text stored, what the error says)
    ("params", "{broken", "params is not JSON (Expecting property name"),
    ("params", '{"a": 1}, {"b": 2}', "params is not JSON (Extra data"),
    ("params", "[1, 2]", "params holds an array, not an object"),
    ("tags", "", "tags is not JSON (Expecting value"),
    ("tags", '{"team": 7}', "tags tag 'team' holds a number, not a string"),
    ("host", '"laptop"', "host holds a string, not an object"),
    ("artifacts", '{"path": "model.json"}', "artifacts holds an object, not an array"),
    ("artifacts", '[{"size": 2}]', "artifacts entry 0 is not an object with a text path"),
    ("host", "[" * 100_000 + "]" * 100_000, "host is not JSON (maximum recursion depth"),
]
DAMAGE_IDS = ["not-json", "two-values", "array-params", "empty-tags", "number-tag", "string-host",
              "object-artifacts", "artifact-without-path", "nested-too-deep"]


@pytest.fixture
def history_file(samepack_home: Path) -> Path:
    return samepack_home / "history.sqlite"


@pytest.mark.parametrize("column,text,problem", DAMAGES, ids=DAMAGE_IDS)
def test_a_damaged_column(samepack_proc, history_file, tmp_path, column, text, problem):
    first, damaged, last = history_of(history_file)
    set_column(history_file, f"UPDATE runs SET {column} = ? WHERE id = ?", text, damaged)
    before = digest(history_file)
    assert_show_and_compare_refuse(samepack_proc, history_file, first, damaged, problem)
    listed = samepack_proc("runs", "list", "--json")
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    assert [run["id"] for run in json.loads(listed.stdout)] == [last, first]
    warning = f"warning: {history_file}: run {damaged}: {problem}"
    assert warning in listed.stderr and f"samepack runs show {damaged[:8]}" in listed.stderr
    assert_listings_leave_it_out(samepack_proc, history_file, tmp_path, first, damaged, last,
                                 warning)
    assert digest(history_file) == before


def test_the_fix_a_damaged_column_names_works(samepack_proc, history_file):
    _, damaged, _ = history_of(history_file)
    set_column(history_file, "UPDATE runs SET params = ? WHERE id = ?", "{broken", damaged)
    fix_from_the_hint(samepack_proc, history_file, damaged)
    shown = samepack_proc("runs", "show", damaged, "--json")
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert record["params"] == {} and record["metrics"] == {"loss": 0.5}


def test_a_metric_point_that_is_not_a_number(samepack_proc, history_file):
    ids = history_of(history_file, runs=5)
    damaged = ids[3]
    set_column(history_file, "UPDATE metrics SET value = 'fast' WHERE run_id = ?", damaged)
    before = digest(history_file)
    shown = samepack_proc("runs", "show", damaged)
    assert_one_line_error(shown, 3, str(history_file),
                          f"run {damaged}: metrics point 0 of 'loss' is not a number: 'fast'")
    others = [ids[4], *ids[2::-1]]
    for limit, listed_ids in (("0", others), ("2", others[:1])):  # tables read whole; looked up
        for command in (("runs", "list", "--json"), ("runs", "list")):
            listed = samepack_proc(*command, "--limit", limit)
            assert listed.returncode == 0, listed.stderr
            assert f"run {damaged}: metrics point 0" in listed.stderr
            if "--json" in command:
                assert [run["id"] for run in json.loads(listed.stdout)] == listed_ids
            else:
                assert damaged[:8] not in listed.stdout and ids[4][:8] in listed.stdout
    assert digest(history_file) == before
    command = re.search(r'"(DELETE FROM metrics .*)"$', hint_of(shown))
    assert command, shown.stderr
    set_column(history_file, command.group(1))
    fixed = samepack_proc("runs", "show", damaged, "--json")
    assert fixed.returncode == 0 and json.loads(fixed.stdout)["metrics"] == {}


def test_nan_stays_a_metric_value_not_damage(history_file):
    _, run_id, _ = history_of(history_file)
    set_column(history_file, "UPDATE metrics SET value = 'NaN' WHERE run_id = ?", run_id)
    value = History(history_file).get_run(run_id).metrics["loss"]
    assert value != value


def test_import_mlflow_with_damaged_tags_names_the_run(samepack_proc, history_file):
    _, damaged, _ = history_of(history_file)
    set_column(history_file, "UPDATE runs SET tags = ? WHERE id = ?",
               '{"mlflow.run_ids": "3f9a1c2e"', damaged)
    before = digest(history_file)
    result = samepack_proc("runs", "import-mlflow", REPO / "fixtures" / "wine-quality" / "mlruns",
                           "--program", "wine-quality:1.0")
    assert_one_line_error(result, 3, str(history_file), f"run {damaged}: tags is not JSON")
    assert digest(history_file) == before


def test_mlflow_ids_are_read_from_good_tags(history_file):
    ids = history_of(history_file)
    set_column(history_file, "UPDATE runs SET tags = ? WHERE id = ?",
               json.dumps({"mlflow.run_ids": "aa,bb", "team": "a"}), ids[0])
    set_column(history_file, "UPDATE runs SET tags = ? WHERE id = ?",
               json.dumps({"note": "mentions mlflow.run_ids"}), ids[1])
    assert History(history_file).mlflow_run_ids() == {"aa", "bb"}


def test_import_mlflow_names_a_run_with_a_blob_id_by_its_rowid(samepack_proc, history_file):
    """The runs MLflow runs were merged into are looked up by their tags; a run among them
    whose tags are damaged and whose id is a blob is named as every listing names it (by
    rowid), not as Python shows bytes."""
    _, damaged, _ = history_of(history_file)
    set_column(history_file, "UPDATE runs SET tags = ? WHERE id = ?",
               '{"mlflow.run_ids": "3f9a1c2e"', damaged)
    set_column(history_file, "UPDATE runs SET id = CAST(id AS BLOB) WHERE id = ?", damaged)
    before = digest(history_file)
    result = samepack_proc("runs", "import-mlflow", REPO / "fixtures" / "wine-quality" / "mlruns",
                           "--program", "wine-quality:1.0")
    assert_one_line_error(result, 3, str(history_file), "the run at rowid 2 of runs: id holds a blob")
    assert "b'" not in result.stderr
    assert digest(history_file) == before


@pytest.mark.parametrize("write", ["finish", "merge"])
def test_a_write_to_a_damaged_run_changes_nothing(history_file, write):
    _, damaged, _ = history_of(history_file)
    set_column(history_file, "UPDATE runs SET artifacts = '[{}]' WHERE id = ?", damaged)
    before = digest(history_file)
    history = History(history_file)
    with pytest.raises(DamagedRunError, match="artifacts entry 0 is not an object"):
        if write == "finish":
            history.finish_run(damaged, "failed", [])
        else:
            history.merge_into_run(damaged, tags={"x": "y"})
    row = sqlite3.connect(history_file).execute(
        "SELECT status, artifacts, tags FROM runs WHERE id = ?", (damaged,)).fetchone()
    assert row == ("succeeded", "[{}]", '{"team": "a"}')
    history.close()
    assert digest(history_file) == before


def test_listings_left_out_or_raise(history_file):
    """In the API: a listing raises the first damaged run, or, given ``damaged``, leaves each
    out and tells of it; records and dicts alike."""
    first, damaged, last = history_of(history_file)
    set_column(history_file, "UPDATE runs SET host = '[]' WHERE id = ?", damaged)
    history = History(history_file)
    for listing in (history.list_runs, history.list_run_dicts, history.list_runs_json):
        with pytest.raises(DamagedRunError, match=f"run {damaged}: host holds an array"):
            listing()
        told: list[DamagedRunError] = []
        listed = listing(damaged=told.append)
        assert [error.run_id for error in told] == [damaged]
        assert told[0].column == "host" and told[0].path == history_file
        if isinstance(listed, str):
            listed = json.loads(listed)
        assert [run["id"] if isinstance(run, dict) else run.id for run in listed] == [last, first]
    with pytest.raises(DamagedRunError):
        history.export_runs("demo", "1.0", "all")  # a bundle never leaves a run out silently


def test_export_refuses_a_damaged_run_and_goes_on_without_runs(samepack_proc, history_file,
                                                                tmp_path):
    project = marker_program(tmp_path / "project")
    assert samepack_proc("run", "-f", project).returncode == 0
    set_column(history_file, "UPDATE runs SET host = '[]'")
    bundle = tmp_path / "marker.tgz"
    refused = samepack_proc("export", "program", "-n", "marker", "--runs", "all", "-o", bundle)
    assert_one_line_error(refused, 3, str(history_file), "host holds an array")
    assert not bundle.exists()
    exported = samepack_proc("export", "program", "-n", "marker", "--runs", "none", "-o", bundle)
    assert exported.returncode == 0, exported.stderr
    assert "the files that run made are not known" in exported.stderr and bundle.is_file()


def test_the_newest_runs_export_past_an_older_damaged_one(history_file):
    ids = history_of(history_file, runs=4)
    set_column(history_file, "UPDATE runs SET params = 'x' WHERE id = ?", ids[0])
    history = History(history_file)
    assert [r["id"] for r in history.export_runs("demo", "1.0", "last:2")] == ids[2:]
    assert history.export_runs("demo", "1.0", "last:0") == []
    with pytest.raises(DamagedRunError, match=f"run {ids[0]}: params is not JSON"):
        history.export_runs("demo", "1.0", "last:4")


def test_a_text_that_is_not_utf8(samepack_proc, history_file):
    _, damaged, _ = history_of(history_file)
    set_column(history_file, "UPDATE runs SET program = CAST(X'ff41' AS TEXT) WHERE id = ?",
               damaged)
    before = digest(history_file)
    for command in (("runs", "list"), ("runs", "list", "--json"), ("runs", "show", damaged)):
        result = samepack_proc(*command)
        assert_one_line_error(result, 3, str(history_file),
                              "the run history holds a value that cannot be read",
                              "Could not decode to UTF-8")
    assert digest(history_file) == before
