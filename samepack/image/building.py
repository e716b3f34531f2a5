"""What every image builder shares: the request, the result, and running a builder's command
with its output streamed line by line."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

OnLine = Callable[[str], None]


@dataclass(frozen=True)
class BuildRequest:
    context: Path  # a staged context with its Dockerfile at the top
    tag: str
    network: str | None = None  # "host" | "none" | None (the builder's default)
    source_date_epoch: int = 0
    secrets: tuple[str, ...] = ()  # environment variables mounted as build secrets of that id


@dataclass(frozen=True)
class BuildResult:
    ref: str
    image_id: str  # sha256:... of the image configuration
    builder: str


def run_streaming(argv: list[str], on_line: OnLine, failure: type, what: str, tool: str,
                  env: Mapping[str, str] | None = None) -> None:
    """Run ``argv``, giving each line of its output (stdout and stderr) to ``on_line``; raise
    ``failure`` with the last line when it exits non-zero."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               errors="replace", env=None if env is None else dict(env))
    last = ""
    assert process.stdout is not None
    for line in process.stdout:
        on_line(line.rstrip("\n"))
        last = line.strip() or last
    if process.wait() != 0:
        raise failure(f"{what} failed ({tool} exit {process.returncode}): {last or 'no output'}",
                      hint="the build output above shows the failing step")
