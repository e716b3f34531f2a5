"""Files as the run history records them: a sha256 of a file, and a directory's file listing."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

CHUNK = 1 << 20
# Where tracking tools keep their runs in a project: their content reaches the run history
# through the tracking readers, so it is neither a run's output file nor the project's code.
TRACKING_DIRS = frozenset({"mlruns", "mlartifacts", "wandb"})
TRACKING_FILES = frozenset({"mlflow.db", "mlflow.db-journal", "mlflow.db-wal", "mlflow.db-shm"})


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_listing(directory: Path) -> list[dict[str, Any]]:
    """``[{path, size, sha256}]`` of every file below ``directory`` (POSIX relative paths,
    sorted); empty when the directory does not exist."""
    if not directory.is_dir():
        return []
    return [{"path": p.relative_to(directory).as_posix(), "size": p.stat().st_size,
             "sha256": sha256_file(p)} for p in sorted(directory.rglob("*")) if p.is_file()]
