"""The built image, recorded in the project's ``.samepack/env.json`` under ``image`` (a small
atomic update: the lock's record stays as it is; a project without one gets a file with only the
format version and the image)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from samepack.errors import InputError

ENV_JSON = Path(".samepack") / "env.json"
ENV_FORMAT = 1


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
        return f"{self.ref.rsplit(':', 1)[0]}@{self.digest}" if self.pushed else self.ref


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


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
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
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
