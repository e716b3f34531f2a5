"""The SQLite run history and the MLflow file-store import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from samepack.errors import InputError, NotFoundError
from samepack.history import History, MetricPoint

REPO = Path(__file__).resolve().parents[2]


def _run(history: History, params: dict, metrics: list[tuple[str, float]], status="succeeded") -> str:
    run_id = history.start_run("demo", "1.0", params, host={"cpus": 2}, git_commit="abc")
    for name, value in metrics:
        history.log_metric(run_id, name, value, stage="train")
    history.record_step(run_id, "train", 0, "2026-01-01T00:00:00.000Z", 1.5, "succeeded")
    history.finish_run(run_id, status, [{"path": "model.json", "size": 3, "sha256": "0" * 64}])
    return run_id


def test_record_round_trip(samepack_home):
    history = History()
    assert history.path == samepack_home / "history.sqlite"
    run_id = _run(history, {"alpha": 0.3}, [("loss", 1.0), ("loss", 0.5), ("acc", 0.9)])
    record = history.get_run(run_id[:6])
    assert record.id == run_id and len(run_id) == 32
    assert record.params == {"alpha": 0.3} and record.status == "succeeded"
    assert record.metrics == {"acc": 0.9, "loss": 0.5}
    assert [p.value for p in record.metric_series["loss"]] == [1.0, 0.5]
    assert record.steps[0].name == "train" and record.steps[0].duration_s == 1.5
    assert record.started_at.endswith("Z") and record.ended_at >= record.started_at
    assert history._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_prefixes_and_missing_ids():
    history = History()
    _run(history, {}, [])
    with pytest.raises(NotFoundError):
        history.get_run("ffffffffffff")
    with pytest.raises(InputError):
        history.get_run("not-hex!")


def test_export_selectors_and_idempotent_import(tmp_path):
    history = History()
    ids = [_run(history, {"i": i}, [("m", float(i))]) for i in range(3)]
    assert history.export_runs("demo", "1.0", "none") == []
    assert [r["id"] for r in history.export_runs("demo", "1.0", "all")] == ids
    assert [r["id"] for r in history.export_runs("demo", "1.0", "last:2")] == ids[1:]
    assert [r["id"] for r in history.export_runs("demo", "1.0", f"{ids[2]},{ids[0][:8]}")] == [ids[0], ids[2]]
    exported = history.export_runs("demo", "1.0", "all")
    json.dumps(exported)  # serialisable
    other = History(tmp_path / "other.sqlite")
    assert other.import_runs(exported) == 3
    assert other.import_runs(exported) == 0
    assert other.export_runs("demo", "1.0", "all") == exported


def test_import_mlflow_file_store(samepack):
    mlruns = REPO / "fixtures" / "wine-quality" / "mlruns"
    first = samepack("runs", "import-mlflow", mlruns, "--program", "wine-quality:1.0", "--json")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout) == {"found": 2, "imported": 2}
    again = samepack("runs", "import-mlflow", mlruns, "--program", "wine-quality:1.0", "--json")
    assert json.loads(again.stdout)["imported"] == 0
    record = History().get_run("3f9a1c2e")
    assert record.source == "mlflow" and record.program == "wine-quality"
    assert record.params == {"alpha": "0.5", "l1_ratio": "0.5"}
    assert record.metrics["r2"] == pytest.approx(0.015611553698770653)
    assert record.tags["mlflow.runName"] == "bright-owl-312"
    assert record.started_at == "2024-06-01T09:00:00.123Z"
    assert record.artifacts[0]["path"] == "model.json"
    shown = samepack("runs", "show", "3f9a")
    assert "bright-owl-312" in shown.stdout and "r2" in shown.stdout
    compared = samepack("runs", "compare", "3f9a", "7c2e", "--json")
    rows = {(r["kind"], r["name"]): r for r in json.loads(compared.stdout)["rows"]}
    assert rows[("param", "alpha")]["values"] == ["0.5", "0.1"] and not rows[("param", "alpha")]["same"]
    assert samepack("runs", "import-mlflow", REPO / "fixtures").exit_code == 3


def test_a_history_from_a_newer_samepack_is_refused(tmp_path):
    import sqlite3

    path = tmp_path / "history.sqlite"
    History(path).close()
    database = sqlite3.connect(path)
    assert database.execute("PRAGMA user_version").fetchone()[0] == 1
    database.execute("PRAGMA user_version = 99")
    database.close()
    with pytest.raises(InputError, match="format 99 is newer"):
        History(path)


def test_listing_as_dicts_is_the_records_to_dict(tmp_path):
    """``runs list --json`` builds its dicts straight from the rows: they are exactly what the
    records give, NaN, missing metrics, a failed step with its tail and merged tags included."""
    history = History(tmp_path / "h.sqlite")
    first = _run(history, {"alpha": 0.5, "nested": {"b": 1, "a": [1, 2]}}, [("loss", 0.25),
                                                                            ("loss", 0.125)])
    second = _run(history, {}, [("r2", float("nan"))], status="failed")
    history.record_step(second, "eval", 2, None, None, "failed", "boom\n")
    history.merge_into_run(second, tags={"mlflow.run_ids": "x"})
    third = history.start_run("other", "2.0", {"seed": 1})  # still running: no steps, no metrics
    for kwargs in ({}, {"program": "demo"}, {"limit": 2}, {"program": "demo", "version": "1.0"}):
        dicts = history.list_run_dicts(**kwargs)
        records = [r.to_dict() for r in history.list_runs(**kwargs)]
        assert json.dumps(dicts, sort_keys=True) == json.dumps(records, sort_keys=True)
        # built in sorted key order at every depth: the unsorted dump is the canonical text
        assert json.dumps(dicts, allow_nan=True) == json.dumps(records, sort_keys=True)
    assert [d["id"] for d in history.list_run_dicts()] == [third, second, first]


def test_listing_as_dicts_is_canonical_for_columns_written_unsorted(tmp_path):
    """A JSON column written by hand (or an older samepack) with its keys out of order still
    lists as the canonical text: the dump without sorting equals the sorted one."""
    import sqlite3

    history = History(tmp_path / "h.sqlite")
    run_id = _run(history, {"seed": 1}, [("loss", 0.5)])
    database = sqlite3.connect(tmp_path / "h.sqlite")
    with database:
        database.execute(
            "UPDATE runs SET params = ?, artifacts = ?, host = ? WHERE id = ?",
            ('{"z": 1, "a": {"y": 2, "b": [{"s": 1, "c": 2}]}}',
             '[{"size": 10, "path": "m.pkl", "sha256": "00"}]', '{"os": "x", "cpu": 2}', run_id))
    database.close()
    dicts = history.list_run_dicts()
    assert list(dicts[0]["params"]) == ["a", "z"]
    assert json.dumps(dicts) == json.dumps(dicts, sort_keys=True)
    records = [r.to_dict() for r in history.list_runs()]
    assert json.dumps(dicts) == json.dumps(records, sort_keys=True)


def test_a_short_prefix_finds_its_run_among_many(tmp_path):
    history = History(tmp_path / "h.sqlite")
    ids = [history.start_run("demo", "1.0", {}) for _ in range(50)]
    for run_id in ids:
        assert history.get_run(run_id[:12]).id == run_id
    assert history.get_run(ids[0].upper()[:12]).id == ids[0]  # typed in capitals


def test_an_older_history_gets_the_new_indexes_at_open(tmp_path):
    import sqlite3

    History(tmp_path / "h.sqlite").close()
    db = sqlite3.connect(tmp_path / "h.sqlite")
    db.execute("DROP INDEX runs_started")
    db.commit()
    db.close()
    History(tmp_path / "h.sqlite").close()
    db = sqlite3.connect(tmp_path / "h.sqlite")
    names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "runs_started" in names
    plan = " ".join(str(row) for row in db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 20"))
    assert "runs_started" in plan  # the newest runs are read from the index, not sorted


def test_listing_as_dicts_is_the_same_whether_tables_are_scanned_or_looked_up(tmp_path):
    """A listing of most runs reads the steps, metrics and tails tables whole; a short one
    looks its runs up by id (in chunks below SQLite's parameter limit). Both give exactly the
    records' dicts, in listing order."""
    history = History(tmp_path / "h.sqlite")
    for index in range(1900):
        program = "small" if index % 2 else "big"
        run_id = history.start_run(program, "1.0", {"i": index})
        history.log_metrics(run_id, [("loss", MetricPoint(1.0 / (index + 1), 0, None, "train")),
                                     ("acc", MetricPoint(float(index), 1, 5, "train"))])
        history.record_step(run_id, "train", 0, None, 0.5, "succeeded", f"line {index}\n")
        history.finish_run(run_id, "succeeded")
    cases = ({"limit": 0},  # every run: whole tables
             {"program": "small", "limit": 0},  # 950 of 1900: whole tables, rows of others unused
             {"program": "small", "limit": 940},  # fewer than half: looked up, two chunks
             {"limit": 20})
    for kwargs in cases:
        dicts = history.list_run_dicts(**kwargs)
        records = [r.to_dict() for r in history.list_runs(**kwargs)]
        assert len(dicts) == len(records) == (kwargs["limit"] or
                                               (950 if "program" in kwargs else 1900))
        assert json.dumps(dicts, allow_nan=True) == json.dumps(records, sort_keys=True)


def test_listing_as_json_text_is_the_same_in_one_process_or_two(tmp_path):
    """``runs list --json`` prints ``list_runs_json``: the dump of ``list_run_dicts``, whether
    it is made here or in halves, the older one by a forked child."""
    import sqlite3

    history = History(tmp_path / "h.sqlite")
    ids = []
    for index in range(41):
        program = "demo" if index % 3 else "other"
        run_id = history.start_run(program, f"{index % 2}.0", {"i": index, "name": "é"},
                                   host={"cpus": index})
        ids.append(run_id)
        if index % 5 == 4:
            continue  # still running: no steps, no metrics
        history.log_metrics(run_id, [("loss", MetricPoint(float("nan") if index == 7 else
                                                          1.0 / (index + 1), 0, None, "fit"))])
        history.record_step(run_id, "fit", 0, None, 0.25, "succeeded", "out\n")
        history.finish_run(run_id, "succeeded", [{"path": f"m{index}", "size": 1, "sha256": "0"}])
    database = sqlite3.connect(tmp_path / "h.sqlite")
    with database:
        database.execute("UPDATE runs SET params = ? WHERE id = ?", ('{"z": 1, "a": 2}', ids[3]))
    database.close()
    for kwargs in ({"limit": 0}, {"limit": 7}, {"program": "demo", "limit": 0}, {"limit": 1},
                   {"program": "none"}):
        expected = json.dumps(history.list_run_dicts(**kwargs), allow_nan=True)
        for parallel in (False, True):
            assert history.list_runs_json(**kwargs, parallel=parallel) == expected


def test_a_damaged_run_in_the_other_half_of_a_listing_is_found_here(tmp_path):
    """The oldest run, listed by the forked child, is damaged: the listing is made again in
    one process, which raises that run's error or, told, leaves it out."""
    import sqlite3

    from samepack.history.damage import DamagedRunError

    history = History(tmp_path / "h.sqlite")
    ids = [history.start_run("demo", "1.0", {"i": index}) for index in range(10)]
    database = sqlite3.connect(tmp_path / "h.sqlite")
    with database:
        database.execute("UPDATE runs SET params = '{broken' WHERE id = ?", (ids[0],))  # oldest
    database.close()
    for parallel in (True, False):
        with pytest.raises(DamagedRunError, match=f"run {ids[0]}: params is not JSON") as raised:
            history.list_runs_json(limit=0, parallel=parallel)
        assert raised.value.run_id == ids[0]
        told: list[str] = []
        listed = history.list_runs_json(limit=0, parallel=parallel,
                                        damaged=lambda error: told.append(error.run_id))
        assert told == [ids[0]]
        assert [run["id"] for run in json.loads(listed)] == ids[:0:-1]
