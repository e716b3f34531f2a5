"""The run history: ``History`` (SQLite, WAL) and ``RunRecord``; MLflow file-store import in
``samepack.history.mlflow_store``."""

from samepack.history.db import History
from samepack.history.records import MetricPoint, RunRecord, StepRecord

__all__ = ["History", "MetricPoint", "RunRecord", "StepRecord"]
