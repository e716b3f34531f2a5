"""Read MLflow's SQLite tracking store (``mlflow.db``, MLflow 2 and 3) into run records, with
``sqlite3`` only: samepack never needs MLflow installed to read what MLflow wrote.

Tables read: ``experiments`` (experiment_id, name, lifecycle_stage), ``runs`` (run_uuid, name,
status, start_time, end_time, lifecycle_stage, artifact_uri, experiment_id), ``params``,
``metrics`` (key, value, timestamp, step, is_nan) and ``tags``. Deleted experiments and runs
are skipped. A run's artifacts are listed from its ``artifact_uri`` when that is a local path;
when the store was moved (a bundle, a fresh copy), the same run folder beside the database
(``mlruns/<experiment>/<run>/artifacts``) is used instead.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from samepack.errors import InputError
from samepack.history.files import file_listing
from samepack.history.mlflow_store import STATUS, _slug
from samepack.history.records import MetricPoint, RunRecord, iso_from_millis

SQLITE_MAGIC = b"SQLite format 3\x00"


def is_sqlite_file(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def _connect(path: Path) -> sqlite3.Connection:
    if not is_sqlite_file(path):
        raise InputError(f"{path}: not an SQLite database",
                         "give MLflow's mlflow.db, an mlruns/ directory or a tracking server URL")
    # read-only, so a store another process is writing is never changed or locked by us
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    db.row_factory = sqlite3.Row
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as error:  # an SQLite header over something else
        db.close()
        raise InputError(f"{path}: unreadable SQLite database ({error})",
                         "give MLflow's mlflow.db, an mlruns/ directory or a tracking server URL"
                         ) from None
    missing = {"experiments", "runs", "params", "metrics", "tags"} - tables
    if missing:
        db.close()
        raise InputError(f"{path}: not an MLflow tracking database (no table "
                         f"{sorted(missing)[0]})",
                         "give MLflow's mlflow.db, an mlruns/ directory or a tracking server URL")
    return db


def local_path(uri: str | None) -> Path | None:
    """The local directory of a ``file:`` URI or a plain path; None for remote stores."""
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and uri[1:3] in (":\\", ":/")):
        return Path(uri)
    return None


def _artifacts(row: sqlite3.Row, db_path: Path) -> list[dict[str, Any]]:
    recorded = local_path(row["artifact_uri"])
    if recorded is not None and not recorded.is_absolute():
        recorded = db_path.parent / recorded
    moved = db_path.parent / "mlruns" / str(row["experiment_id"]) / row["run_uuid"] / "artifacts"
    for directory in (recorded, moved):
        if directory is not None and directory.is_dir():
            return file_listing(directory)
    return []


def read_mlflow_db(path: Path, program: str | None = None, version: str = "0.0.0",
                   since_ms: int | None = None) -> list[RunRecord]:
    """Every live run of every live experiment in ``path``, by experiment then start time;
    only runs started at or after ``since_ms`` when given. ``program`` defaults to the
    experiment's name."""
    db = _connect(path)
    try:
        experiments = {row["experiment_id"]: row for row in db.execute(
            "SELECT * FROM experiments WHERE lifecycle_stage IS NOT 'deleted' "
            "ORDER BY experiment_id")}
        query = ("SELECT * FROM runs WHERE lifecycle_stage IS NOT 'deleted'"
                 + (" AND start_time >= ?" if since_ms is not None else "")
                 + " ORDER BY experiment_id, start_time, run_uuid")
        records = []
        for row in db.execute(query, () if since_ms is None else (since_ms,)).fetchall():
            experiment = experiments.get(row["experiment_id"])
            if experiment is None:
                continue
            records.append(_record(db, row, experiment, path, program, version))
        return records
    except sqlite3.DatabaseError as error:
        raise InputError(f"{path}: unreadable MLflow database ({error})",
                         "is the file complete? MLflow may still be writing it") from None
    finally:
        db.close()


def _record(db: sqlite3.Connection, row: sqlite3.Row, experiment: sqlite3.Row, path: Path,
            program: str | None, version: str) -> RunRecord:
    run_id = row["run_uuid"]
    params = {r["key"]: r["value"] for r in db.execute(
        "SELECT key, value FROM params WHERE run_uuid = ? ORDER BY key", (run_id,))}
    tags = {r["key"]: r["value"] or "" for r in db.execute(
        "SELECT key, value FROM tags WHERE run_uuid = ? ORDER BY key", (run_id,))}
    tags.update({"mlflow.experiment": str(experiment["name"]),
                 "mlflow.experiment_id": str(experiment["experiment_id"])})
    series: dict[str, list[MetricPoint]] = {}
    for r in db.execute("SELECT key, value, timestamp, step, is_nan FROM metrics "
                        "WHERE run_uuid = ? ORDER BY key, step, timestamp, value", (run_id,)):
        value = float("nan") if r["is_nan"] else float(r["value"])
        series.setdefault(r["key"], []).append(
            MetricPoint(value=value, step=int(r["step"] or 0), timestamp=r["timestamp"]))
    return RunRecord(
        id=run_id, program=program or _slug(str(experiment["name"])), version=version,
        params=params, status=STATUS.get(row["status"], "failed"),
        started_at=iso_from_millis(row["start_time"]), ended_at=iso_from_millis(row["end_time"]),
        metrics={name: points[-1].value for name, points in series.items()},
        metric_series=series, artifacts=_artifacts(row, path),
        git_commit=tags.get("mlflow.source.git.commit"), source="mlflow", tags=tags)
