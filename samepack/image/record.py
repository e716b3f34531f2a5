"""The built image, recorded in the project's ``.samepack/env.json`` under ``image`` (a small
atomic update: the lock's record stays as it is; a project without one gets a file with only the
format version and the image)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from samepack.envfiles.atomic import write_atomic
from samepack.errors import InputError

ENV_JSON = Path(".samepack") / "env.json"
ENV_FORMAT = 1


def split_tag(ref: str) -> tuple[str, str]:
    """(repository, tag) of ``host:port/repo:tag``; the tag defaults to ``latest``."""
    name, _, tag = ref.rpartition(":")
    if not name or "/" in tag:
        return ref, "latest"
    return name, tag


@dataclass(frozen=True)
class ImageRecord:
    ref: str  # the tag built (and pushed)
    digest: str  # manifest digest when pushed, else the image id
    builder: str
    image_id: str
    base: str
    pushed: bool = False

    def pinned(self) -> str:
        """A reference by digest when the image was pushed, else the tag."""
        if not self.pushed:
            return self.ref
        return f"{split_tag(self.ref)[0]}@{self.digest}"


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {"format": ENV_FORMAT}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as bad:
        raise InputError(f"{path}: not valid JSON ({bad})",
                         hint="regenerate it with `samepack package-env --force`") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object", hint="regenerate it with `samepack package-env --force`")
    return data


def record_image(project: Path, record: ImageRecord) -> Path:
    """Set ``image`` in the project's env.json; everything else in the file is kept."""
    path = project / ENV_JSON
    data = _read(path)
    data["image"] = asdict(record)
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def read_image(project: Path) -> ImageRecord | None:
    """The recorded image of a project, if it was built."""
    image = _read(project / ENV_JSON).get("image")
    if not isinstance(image, dict):
        return None
    try:
        return ImageRecord(**image)
    except TypeError:
        return None
