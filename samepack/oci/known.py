"""Which repositories of a registry are known to hold a blob, so a push to a new repository can
mount it instead of uploading it again (Docker keeps the same kind of record).

Stored in ``$SAMEPACK_HOME/oci/known-blobs.json``: ``{host: {digest: [repository, ...]}}``.
It is only a hint: a stale entry costs one refused mount and the blob is uploaded as usual.
"""

from __future__ import annotations

import json
from pathlib import Path

from samepack.envfiles.atomic import write_atomic
from samepack.paths import samepack_home

MAX_REPOSITORIES = 8


def _path() -> Path:
    return samepack_home() / "oci" / "known-blobs.json"


def _load() -> dict:
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def repositories_holding(host: str, digest: str) -> list[str]:
    return list(_load().get(host, {}).get(digest, []))


def remember(host: str, repository: str, digests: list[str]) -> None:
    """Record that ``repository`` on ``host`` holds ``digests`` (atomic rewrite of the file)."""
    data = _load()
    blobs = data.setdefault(host, {})
    for digest in digests:
        repos = [r for r in blobs.get(digest, []) if r != repository]
        blobs[digest] = ([repository] + repos)[:MAX_REPOSITORIES]
    write_atomic(_path(), json.dumps(data, sort_keys=True, indent=1) + "\n")
