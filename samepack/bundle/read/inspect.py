"""What ``samepack inspect`` and ``verify`` report about a bundle: pure summaries of a verified
bundle (manifest, run history, data pointers) and the sink that captures the small members."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samepack.bundle.read.contents import MAX_METADATA_BYTES, POINTERS, RUNS
from samepack.bundle.format.manifest import Manifest, Member
from samepack.bundle.parts.selection import REPORT
from samepack.bundle.read.safety import Limits

_CAPTURE_LIMIT = MAX_METADATA_BYTES


class Capture:
    """A sink keeping the run history and data pointers in memory (bounded)."""

    def __init__(self, paths: tuple[str, ...] = (RUNS, POINTERS)) -> None:
        self.paths = paths
        self.captured: dict[str, bytes] = {}

    def __call__(self, member: Member):
        if member.path not in self.paths or member.size > _CAPTURE_LIMIT:
            return None
        capture = self

        class _Buffer(io.BytesIO):
            def close(self) -> None:
                capture.captured[member.path] = self.getvalue()
                super().close()

        return _Buffer()


@dataclass
class Summary:
    path: str
    manifest: Manifest
    runs: list[dict[str, Any]] = field(default_factory=list)
    pointers: list[dict[str, Any]] = field(default_factory=list)
    report: bytes | None = None  # metadata/report.html, when asked for and present

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "verified": True, "manifest": self.manifest.to_dict(),
                "runs": self.runs, "pointers": self.pointers}


def summarise(path: Path, limits: Limits, with_report: bool = False) -> Summary:
    """Verify a bundle (file or directory) and collect what inspect shows (and the runs'
    HTML report when ``with_report``)."""
    from samepack.bundle.read.importer import verify_bundle

    verified, contents, kept = verify_bundle(path, limits, keep=(REPORT,) if with_report else ())
    return Summary(str(path), verified.manifest, contents.runs, contents.pointers, kept.get(REPORT))


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"
