"""Where MLflow runs are read from: a tracking URI or a path, whichever store it names.

``http(s)://…`` is a tracking server (REST), ``sqlite:///…`` or a file is MLflow's SQLite
store (``mlflow.db``), ``file://…`` or a directory is the file store (``mlruns/``). The
tracking URI samepack uses as the team's store comes from ``--tracking-uri``, else
``SAMEPACK_TRACKING_URI``, else MLflow's own ``MLFLOW_TRACKING_URI``.

The readers are imported when a store is read: every run asks where its steps' MLflow store
is, and most steps log nothing to MLflow.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from typing import TYPE_CHECKING

from samepack.errors import InputError

if TYPE_CHECKING:
    from samepack.history.records import RunRecord

HINT = "give MLflow's mlflow.db, an mlruns/ directory or a tracking server URL"


def is_server_uri(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def team_tracking_uri(explicit: str | None = None, env: dict[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    return explicit or env.get("SAMEPACK_TRACKING_URI") or env.get("MLFLOW_TRACKING_URI") or None


def store_path(uri: str, cwd: Path | None = None) -> Path | None:
    """The local file or folder a tracking URI names (relative to ``cwd``); None for a server
    or a store samepack cannot read (databases other than SQLite, Databricks, …)."""
    if is_server_uri(uri) or uri == "databricks":  # MLflow's name for a Databricks workspace
        return None
    parsed = urlparse(uri)
    if parsed.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute.db (SQLAlchemy's spelling)
        text = unquote(uri[len("sqlite:///"):]) if uri.startswith("sqlite:///") else ""
    elif parsed.scheme == "file":
        text = unquote(parsed.path)
    elif parsed.scheme and len(parsed.scheme) > 1:
        return None
    else:
        text = uri
    if not text:
        return None
    path = Path(text).expanduser()
    return path if path.is_absolute() or cwd is None else cwd / path


def read_mlflow(source: str, program: str | None = None, version: str = "0.0.0",
                since_ms: int | None = None, cwd: Path | None = None) -> "list[RunRecord]":
    """The live runs of the store ``source`` names, started at or after ``since_ms``."""
    from samepack.history.mlflow_rest import MlflowServer
    from samepack.history.mlflow_sqlite import is_sqlite_file, read_mlflow_db
    from samepack.history.mlflow_store import read_mlruns

    if is_server_uri(source):
        server = MlflowServer(source)
        try:
            return server.read_runs(program, version, since_ms)
        finally:
            server.close()
    path = store_path(source, cwd)
    if path is None:
        raise InputError(f"{source}: samepack reads MLflow's SQLite and file stores and "
                         "tracking servers only", HINT)
    if path.is_dir():
        if is_sqlite_file(path / "mlflow.db") and not any(path.glob("*/meta.yaml")):
            path = path / "mlflow.db"
        else:
            records = read_mlruns(path, program, version)
            return [r for r in records if since_ms is None or _started_ms(r) >= since_ms]
    if not path.exists():
        raise InputError(f"{path}: no such file or directory", HINT)
    return read_mlflow_db(path, program, version, since_ms)


def _started_ms(record: "RunRecord") -> int:
    from datetime import datetime

    if not record.started_at:
        return 0
    moment = datetime.fromisoformat(record.started_at.replace("Z", "+00:00"))
    return int(moment.timestamp() * 1000)
