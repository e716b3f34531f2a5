"""The run record: what one run of a program did. JSON-serialisable with ``to_dict``; bundles
carry these as ``metadata/runs.jsonl`` and ``samepack reproduce`` compares against them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

RunStatus = Literal["running", "succeeded", "failed", "cancelled"]
RECORD_FORMAT = 1


def utc_now() -> str:
    """The current time as ISO 8601 UTC with microseconds (``2026-01-01T12:00:00.000000Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_from_millis(millis: int | float | None) -> str | None:
    if millis is None:
        return None
    moment = datetime.fromtimestamp(float(millis) / 1000, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class StepRecord:
    """One step of a run as recorded: how it ended and the tail of what it printed."""

    name: str
    exit_code: int | None
    started_at: str | None
    duration_s: float | None
    status: str = "succeeded"  # succeeded | failed | skipped | cancelled
    log_tail: str | None = None  # the last lines it printed (secrets masked)


@dataclass
class MetricPoint:
    """One value a run logged for a metric."""

    value: float
    step: int = 0  # the training step the script gave (MLflow's meaning)
    timestamp: int | None = None  # milliseconds since the epoch
    stage: str | None = None  # the pipeline step that logged it


@dataclass
class RunRecord:
    """What one run of a program did; ``to_dict`` is its JSON form."""

    id: str
    program: str
    version: str
    params: dict[str, Any] = field(default_factory=dict)
    status: RunStatus = "running"
    started_at: str | None = None
    ended_at: str | None = None
    steps: list[StepRecord] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)  # last value of each
    metric_series: dict[str, list[MetricPoint]] = field(default_factory=dict)
    # {path, size, sha256}; files of $SAMEPACK_ARTIFACTS, and with kind "output" the files the run
    # made or changed in its working directory
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    lock_digest: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    host: dict[str, Any] = field(default_factory=dict)
    source: Literal["samepack", "mlflow"] = "samepack"
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.program}:{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data, the same as ``dataclasses.asdict`` gives, made
        without its deep copy of every value (a listing of 10,000 runs spent most of its time
        there): containers are copied one level deep, their values are shared."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data.update(
            params=dict(self.params), steps=[vars(step).copy() for step in self.steps],
            metrics=dict(self.metrics),
            metric_series={name: [vars(point).copy() for point in points]
                           for name, points in self.metric_series.items()},
            artifacts=[dict(artifact) for artifact in self.artifacts], host=dict(self.host),
            tags=dict(self.tags), format=RECORD_FORMAT)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunRecord":
        data = {k: v for k, v in data.items() if k != "format"}
        data["steps"] = [StepRecord(**s) for s in data.get("steps") or []]
        data["metric_series"] = {name: [MetricPoint(**p) for p in points]
                                 for name, points in (data.get("metric_series") or {}).items()}
        return cls(**data)
