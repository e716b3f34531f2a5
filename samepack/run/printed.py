"""What a step prints: kept as its log (the whole of it in the run directory, its tail in the
history) and read for metrics by the step's ``metrics`` patterns, so that a program that only
prints its results (``accuracy: 0.93``) has them recorded and compared with no change to it."""

from __future__ import annotations

import math
import re
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from samepack.history.records import MetricPoint
from samepack.program.model import MetricPattern

TAIL_LINES = 200
TAIL_LINE_CHARS = 1000  # one very long line (a progress bar redrawn with \r) is cut


@dataclass
class _Compiled:
    """A metric pattern, compiled."""

    regex: re.Pattern
    name: str | None


@dataclass
class StepOutput:
    """Receives a step's lines (secrets already masked): writes the log, keeps the tail,
    collects metric points."""

    step: str
    log_path: Path
    patterns: list[MetricPattern] = field(default_factory=list)
    tail: deque = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    points: list[tuple[str, MetricPoint]] = field(default_factory=list)
    _log: IO[str] | None = None
    _compiled: list[_Compiled] = field(default_factory=list)
    _counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._compiled = [_Compiled(re.compile(p.pattern), p.name) for p in self.patterns]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w", encoding="utf-8", errors="replace")

    def line(self, text: str) -> None:
        assert self._log is not None
        self._log.write(text + "\n")
        self.tail.append(text[-TAIL_LINE_CHARS:])
        for pattern in self._compiled:
            for match in pattern.regex.finditer(text):
                self._point(pattern, match)

    def _point(self, pattern: _Compiled, match: re.Match) -> None:
        groups = match.groupdict()
        name = groups.get("name") or pattern.name
        try:
            value = float(groups["value"])
        except (TypeError, ValueError):
            return
        if not name or math.isnan(value):
            return
        index = self._counts.get(name, 0)
        self._counts[name] = index + 1
        self.points.append((name, MetricPoint(value=value, step=index,
                                              timestamp=int(time.time() * 1000), stage=self.step)))

    def close(self) -> str:
        """Close the log; returns its tail."""
        if self._log is not None:
            self._log.close()
            self._log = None
        return "\n".join(self.tail)
