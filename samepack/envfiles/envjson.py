"""``.samepack/env.json``: the record of one lock — what went in, which tool made it, and the
sha256 of every file it wrote. ``package-env --check`` and ``env create`` read it back."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from samepack.errors import InputError, NotFoundError

ENV_FORMAT = 1
ENV_JSON = Path(".samepack") / "env.json"


@dataclass
class EnvRecord:
    """The content of ``.samepack/env.json``: what a lock was made from and with."""

    inputs_hash: str
    inputs: dict[str, Any]  # canonical lock inputs, kept so drift can be shown, not just detected
    locker: str
    locker_source: str  # flag | pyproject | auto
    tools: dict[str, str]
    python: str
    platforms: list[str]
    hardware: dict[str, Any]
    from_env: bool
    index: dict[str, Any]
    files: dict[str, str]  # file name (relative to the project) -> "sha256:..."
    pins: dict[str, str] = field(default_factory=dict)  # "manager:name" -> version
    format: int = ENV_FORMAT
    # keys other stages add (``image`` from the image build), kept while the lock is unchanged
    extra: dict[str, Any] = field(default_factory=dict)

    def to_text(self) -> str:
        data = asdict(self)
        data.update(data.pop("extra"))
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def sha256_text(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def read_raw(project_dir: Path) -> dict[str, Any]:
    """The env.json object as stored, or ``{}`` when absent or unreadable."""
    try:
        data = json.loads((project_dir / ENV_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_env_record(project_dir: Path) -> EnvRecord:
    """The recorded lock of a project (``NotFoundError`` when it was never locked)."""
    path = project_dir / ENV_JSON
    if not path.is_file():
        raise NotFoundError(f"{ENV_JSON}: the project has no lock record",
                            hint=f"run `samepack package-env {project_dir}` first")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as bad:
        raise InputError(f"{ENV_JSON}: not valid JSON ({bad})",
                         hint="regenerate it with `samepack package-env --force`") from bad
    return _upgrade(data, path)


def _upgrade(data: dict[str, Any], path: Path) -> EnvRecord:
    """Readers upgrade older formats here, in one place."""
    version = data.get("format")
    if version != ENV_FORMAT:
        raise InputError(f"{ENV_JSON}: format {version!r} is not supported (expected {ENV_FORMAT})",
                         hint="regenerate it with `samepack package-env --force`")
    known = {f.name for f in fields(EnvRecord)} - {"extra"}
    try:
        return EnvRecord(**{k: v for k, v in data.items() if k in known},
                         extra={k: v for k, v in data.items() if k not in known})
    except TypeError as bad:
        raise InputError(f"{ENV_JSON}: missing fields ({bad})",
                         hint="regenerate it with `samepack package-env --force`") from bad
