"""MLflow: what a step logs reaches the run record with no change to its code; MLflow 3's
SQLite store, a file store and a real tracking server are read without samepack importing
MLflow; a tracking server as the team's store gets every run once."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from samepack.history import History
from support import FIXTURES, require_module

pytestmark = pytest.mark.xdist_group("mlflow")  # one worker, one tracking server

QUICKSTART = FIXTURES / "mlflow-quickstart"
HELLO_SHA = hashlib.sha256(b"hello world!").hexdigest()
STEPPED = ("import mlflow, os\n"
           "with mlflow.start_run(run_name='stepped'):\n"
           "    mlflow.log_param('lr', 0.01)\n"
           "    mlflow.set_tag('team', 'wine')\n"
           "    for step in range(5):\n"
           "        mlflow.log_metric('loss', 1.0 / (step + 1), step=step)\n")
OWN_METRICS = ("import json, os\n"
               "with open(os.environ['SAMEPACK_METRICS'], 'a') as f:\n"
               "    for step in range(3):\n"
               "        f.write(json.dumps({'name': 'rmse', 'value': 1.0 - step / 10, 'step': step}) + '\\n')\n"
               "open(os.path.join(os.environ['SAMEPACK_ARTIFACTS'], 'model.txt'), 'w').write('m')\n")


@pytest.fixture(autouse=True, scope="module")
def _server_boots_meanwhile(mlflow_server_started):
    """The tracking server starts with the first test here and is ready by the last."""


def _program(directory: Path, name: str, steps: dict[str, str]) -> Path:
    lines = ["apiVersion: samepack.dev/v1", "kind: Program",
             f"metadata: {{name: {name}, version: '1.0'}}", "steps:"]
    lines += [f"  {step}: {json.dumps({'run': run})}" for step, run in steps.items()]
    (directory / "samepack.yaml").write_text("\n".join(lines) + "\n")
    return directory / "samepack.yaml"


def _clean_env(monkeypatch) -> None:
    for name in ("MLFLOW_TRACKING_URI", "SAMEPACK_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME",
                 "MLFLOW_EXPERIMENT_ID", "MLFLOW_RUN_ID"):
        monkeypatch.delenv(name, raising=False)


def _only_run() -> "object":
    history = History()
    try:
        (record,) = history.list_runs()
        return record
    finally:
        history.close()


def test_step_logging_reaches_the_record_with_the_store_in_the_run(
        samepack, tmp_path, samepack_home, monkeypatch):
    require_module("mlflow")
    _clean_env(monkeypatch)
    project = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, project)
    (project / "stepped.py").write_text(STEPPED)
    _program(project, "quickstart", {"track": "python mlflow_tracking.py",
                                     "stepped": "python stepped.py"})
    result = samepack("run", "-f", project / "samepack.yaml")
    assert result.exit_code == 0, result.stderr
    record = _only_run()
    assert set(record.params) == {"param1", "lr"} and record.params["lr"] == "0.01"
    assert len(record.metric_series["foo"]) == 3
    assert {p.stage for p in record.metric_series["foo"]} == {"track"}
    assert [(p.step, p.value) for p in record.metric_series["loss"]] == \
        [(step, 1.0 / (step + 1)) for step in range(5)]
    assert record.tags["team"] == "wine" and len(record.tags["mlflow.run_ids"].split(",")) == 2
    (artifact,) = [a for a in record.artifacts if a["path"] == "mlflow/test.txt"]
    assert artifact["sha256"] == HELLO_SHA and artifact["size"] == 12
    run_dir = samepack_home / "runs" / record.id
    assert (run_dir / "mlflow.db").is_file()
    # the store is the run's: no mlflow.db in the project, only the script's own outputs/ and
    # the artifacts where MLflow keeps a local store's by default (mlruns/)
    assert sorted(p.name for p in project.iterdir()) == \
        ["README.md", "mlflow_tracking.py", "mlruns", "outputs", "samepack.yaml", "stepped.py"]
    shown = samepack("runs", "show", record.id[:8])
    assert "param1" in shown.stdout and "mlflow/test.txt" in shown.stdout


def test_import_mlflow_db_and_its_folder(samepack, tmp_path, monkeypatch):
    """MLflow 3 with no tracking URI writes mlflow.db and mlruns/; samepack reads both with
    sqlite3 and the files, also after the folder moved (artifact paths are absolute)."""
    require_module("mlflow")
    _clean_env(monkeypatch)
    made = tmp_path / "made"
    shutil.copytree(QUICKSTART, made)
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("MLFLOW_")}
    subprocess.run([sys.executable, "mlflow_tracking.py"], cwd=made, env=env, check=True,
                   capture_output=True, timeout=300)
    moved = tmp_path / "moved"
    made.rename(moved)
    first = samepack("runs", "import-mlflow", moved / "mlflow.db", "--json")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout) == {"found": 1, "imported": 1}
    again = samepack("runs", "import-mlflow", moved, "--json")
    assert json.loads(again.stdout) == {"found": 1, "imported": 0}
    record = _only_run()
    assert record.source == "mlflow" and record.program == "default"
    assert len(record.metric_series["foo"]) == 3 and "param1" in record.params
    assert record.artifacts == [{"path": "test.txt", "size": 12, "sha256": HELLO_SHA}]
    assert record.tags["mlflow.source.name"] == "mlflow_tracking.py"
    bad = samepack("runs", "import-mlflow", moved / "mlflow_tracking.py")
    assert bad.exit_code == 3 and "not an SQLite database" in bad.stderr
    assert "Traceback" not in bad.stderr
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    bad = samepack("runs", "import-mlflow", other)
    assert bad.exit_code == 3 and "not an MLflow tracking database" in bad.stderr
    # a run deleted in MLflow is not imported
    deleted = tmp_path / "deleted.db"
    shutil.copyfile(moved / "mlflow.db", deleted)
    with sqlite3.connect(deleted) as db:
        db.execute("UPDATE runs SET lifecycle_stage = 'deleted'")
    from samepack.history.mlflow_sqlite import read_mlflow_db

    assert read_mlflow_db(deleted) == []


def test_team_tracking_server_gets_each_run_once(samepack, tmp_path, monkeypatch,
                                                  mlflow_server):
    from mlflow.tracking import MlflowClient

    _clean_env(monkeypatch)
    client = MlflowClient(mlflow_server)

    # 1. a step that does not use MLflow: samepack records the run as an MLflow run
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "train.py").write_text(OWN_METRICS)
    _program(plain, "plain", {"train": "python train.py"})
    ran = samepack("run", "-f", plain / "samepack.yaml", "--tracking-uri", mlflow_server)
    assert ran.exit_code == 0, ran.stderr
    record = History().get_run(History().list_runs()[0].id)
    experiment = client.get_experiment_by_name("plain")
    (mlflow_run,) = client.search_runs([experiment.experiment_id])
    assert mlflow_run.data.tags["samepack.run_id"] == record.id
    assert mlflow_run.data.tags["samepack.program"] == "plain:1.0"
    assert mlflow_run.info.status == "FINISHED"
    history = client.get_metric_history(mlflow_run.info.run_id, "rmse")
    assert sorted((m.step, m.value) for m in history) == [(0, 1.0), (1, 0.9), (2, 0.8)]
    assert [a.path for a in client.list_artifacts(mlflow_run.info.run_id)] == ["model.txt"]
    assert record.tags["mlflow.run_ids"] == mlflow_run.info.run_id

    # 2. a step that logs to MLflow itself: its MLflow run gets samepack's tags, no second run
    logged = tmp_path / "logged"
    logged.mkdir()
    (logged / "stepped.py").write_text("import mlflow\nmlflow.set_experiment('logged')\n" + STEPPED)
    _program(logged, "logged", {"train": "python stepped.py"})
    monkeypatch.setenv("SAMEPACK_TRACKING_URI", mlflow_server)
    ran = samepack("run", "-f", logged / "samepack.yaml")
    assert ran.exit_code == 0, ran.stderr
    (mlflow_run,) = client.search_runs([client.get_experiment_by_name("logged").experiment_id])
    ours = History().list_runs(program="logged")[0]
    assert mlflow_run.data.tags["samepack.run_id"] == ours.id
    assert mlflow_run.data.params == {"lr": "0.01"}
    assert [p.step for p in ours.metric_series["loss"]] == [0, 1, 2, 3, 4]
    assert ours.tags["mlflow.run_ids"] == mlflow_run.info.run_id

    # 3. importing the server: samepack's runs are not doubled, a run made elsewhere comes in
    outside = client.create_run(experiment.experiment_id, run_name="by-hand")
    client.log_metric(outside.info.run_id, "rmse", 0.5, step=7)
    client.set_terminated(outside.info.run_id)
    imported = samepack("runs", "import-mlflow", mlflow_server, "--json")
    assert imported.exit_code == 0, imported.stderr
    assert json.loads(imported.stdout) == {"found": 3, "imported": 1}
    brought = History().get_run(outside.info.run_id)
    assert brought.source == "mlflow" and brought.metric_series["rmse"][0].step == 7
    assert len(History().list_runs()) == 3
