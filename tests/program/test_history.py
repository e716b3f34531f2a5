"""The SQLite run history and the MLflow file-store import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from samepack.errors import InputError, NotFoundError
from samepack.history import History

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
