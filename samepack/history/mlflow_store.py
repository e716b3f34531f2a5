"""Read MLflow's file store (``mlruns/``) into run records, without MLflow or a server.

Layout read: ``mlruns/<experiment>/meta.yaml`` (name, lifecycle_stage), and per run
``<run>/meta.yaml`` (run_id, status, start_time, end_time, lifecycle_stage), ``params/<name>``,
``metrics/<name>`` (lines ``timestamp value step``), ``tags/<name>`` and ``artifacts/``.
Deleted experiments and runs are skipped; MLflow's run id becomes the record id, so importing
twice adds nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from samepack.errors import InputError
from samepack.history.files import file_listing
from samepack.history.records import MetricPoint, RunRecord, iso_from_millis
from samepack.program.yamlsource import load_bounded

# MLflow's RunStatus numbers (and the names newer versions write).
STATUS = {1: "running", 2: "running", 3: "succeeded", 4: "failed", 5: "cancelled",
          "RUNNING": "running", "SCHEDULED": "running", "FINISHED": "succeeded",
          "FAILED": "failed", "KILLED": "cancelled"}


def _meta(path: Path) -> dict[str, Any]:
    try:
        data = load_bounded(path)
    except InputError as error:
        raise InputError(f"{path}: unreadable MLflow meta.yaml ({error})",
                         "is this an MLflow file store (mlruns/)?") from None
    return data if isinstance(data, dict) else {}


def _files(directory: Path) -> dict[str, str]:
    """``{relative name: stripped text}`` of the files below ``directory`` (names may nest)."""
    if not directory.is_dir():
        return {}
    return {p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8").strip()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def _series(directory: Path, file: Path) -> list[MetricPoint]:
    points = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            timestamp, value = int(parts[0]), float(parts[1])
            step = int(parts[2]) if len(parts) > 2 else 0
        except (ValueError, IndexError):
            raise InputError(f"{file}:{number}: expected 'timestamp value step'",
                             "the metric file is damaged") from None
        points.append(MetricPoint(value=value, step=step, timestamp=timestamp))
    return points


def read_run(run_dir: Path, experiment: dict[str, Any], program: str, version: str) -> RunRecord | None:
    meta = _meta(run_dir / "meta.yaml")
    if meta.get("lifecycle_stage") == "deleted":
        return None
    run_id = str(meta.get("run_id") or meta.get("run_uuid") or run_dir.name)
    metrics_dir = run_dir / "metrics"
    series = {p.relative_to(metrics_dir).as_posix(): _series(metrics_dir, p)
              for p in sorted(metrics_dir.rglob("*")) if p.is_file()} if metrics_dir.is_dir() else {}
    tags = _files(run_dir / "tags")
    tags.update({"mlflow.experiment": str(experiment.get("name", "")),
                 "mlflow.experiment_id": str(experiment.get("experiment_id", ""))})
    return RunRecord(
        id=run_id, program=program, version=version, params=_files(run_dir / "params"),
        status=STATUS.get(meta.get("status"), "failed"),
        started_at=iso_from_millis(meta.get("start_time")),
        ended_at=iso_from_millis(meta.get("end_time")),
        metrics={name: points[-1].value for name, points in series.items() if points},
        metric_series={name: points for name, points in series.items() if points},
        artifacts=file_listing(run_dir / "artifacts"),
        git_commit=tags.get("mlflow.source.git.commit"), source="mlflow", tags=tags)


def read_mlruns(root: Path, program: str | None = None, version: str = "0.0.0") -> list[RunRecord]:
    """Every live run of every live experiment under ``root``, by experiment then start time.
    ``program`` defaults to the experiment's name."""
    if not root.is_dir():
        raise InputError(f"{root}: not a directory", "give the path of an MLflow mlruns/ directory")
    experiments = [p for p in sorted(root.iterdir()) if (p / "meta.yaml").is_file()]
    if not experiments:
        raise InputError(f"{root}: no MLflow experiments (no */meta.yaml)",
                         "give the path of an MLflow mlruns/ directory")
    records: list[RunRecord] = []
    for directory in experiments:
        experiment = _meta(directory / "meta.yaml")
        if experiment.get("lifecycle_stage") == "deleted":
            continue
        name = program or _slug(str(experiment.get("name") or directory.name))
        runs = [read_run(p, experiment, name, version) for p in sorted(directory.iterdir())
                if (p / "meta.yaml").is_file()]
        records += sorted((r for r in runs if r), key=lambda r: (r.started_at or "", r.id))
    return records


def _slug(text: str) -> str:
    from samepack.program.translate import slug

    return slug(text)
