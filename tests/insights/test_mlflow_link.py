"""Which MLflow store a run's steps are given, and how tracking URIs are read (no MLflow
needed: these are samepack's own rules)."""

from __future__ import annotations

from pathlib import Path

from samepack.history.mlflow_link import RUN_SCOPED, link_mlflow, without_credentials
from samepack.history.mlflow_source import store_path


def test_the_steps_store(tmp_path: Path):
    env: dict[str, str] = {}
    link = link_mlflow(env, tmp_path)
    assert env["MLFLOW_TRACKING_URI"] == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert set(env) == {"MLFLOW_TRACKING_URI"}
    assert link.team_uri is None and store_path(link.step_uri) == tmp_path / "mlflow.db"

    env = {"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"}
    assert link_mlflow(env, tmp_path).team_uri == "http://127.0.0.1:5000"
    assert env["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5000"

    env = {"MLFLOW_TRACKING_URI": "http://a:1", "SAMEPACK_TRACKING_URI": "http://b:2"}
    assert link_mlflow(env, tmp_path).team_uri == "http://b:2"
    assert env["MLFLOW_TRACKING_URI"] == "http://b:2"  # the steps log where samepack records
    assert link_mlflow(dict(env), tmp_path, "http://c:3").team_uri == "http://c:3"

    env = {"MLFLOW_TRACKING_URI": "http://user:pass@a:1"}
    link = link_mlflow(env, tmp_path, RUN_SCOPED)
    assert link.team_uri is None and env["MLFLOW_TRACKING_URI"].startswith("sqlite:///")


def test_tracking_uris_as_paths(tmp_path: Path):
    assert store_path("sqlite:///mlflow.db", tmp_path) == tmp_path / "mlflow.db"
    assert store_path("sqlite:////data/mlflow.db", tmp_path) == Path("/data/mlflow.db")
    assert store_path("file:///data/mlruns") == Path("/data/mlruns")
    assert store_path("mlruns", tmp_path) == tmp_path / "mlruns"
    assert store_path("http://127.0.0.1:5000") is None
    assert store_path("databricks") is None and store_path("databricks://profile") is None
    assert store_path("postgresql://db/mlflow") is None
    assert without_credentials("https://user:secret@mlflow.example:8443/x") == \
        "https://mlflow.example:8443/x"
    assert without_credentials("http://127.0.0.1:5000") == "http://127.0.0.1:5000"
