"""The last lines of what a run's steps printed, for the report's run pages.

The runner keeps each step's standard output as ``$SAMEPACK_HOME/runs/<id>/logs/<step>.log``
(a whole-run ``stdout.log`` beside ``logs/`` is read too); the tail is those files' last lines,
each prefixed with its step as in the terminal.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from samepack.paths import samepack_home

TAIL_LINES = 40
LINE_LIMIT = 400  # characters kept of one line


def _tail(path: Path, lines: int) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return [line.rstrip("\n")[:LINE_LIMIT] for line in deque(handle, maxlen=lines)]
    except OSError:
        return []


def log_tail(run_dir: Path, lines: int = TAIL_LINES) -> list[str]:
    whole = run_dir / "stdout.log"
    if whole.is_file():
        return _tail(whole, lines)
    tail: list[str] = []
    logs = run_dir / "logs"
    if logs.is_dir():
        for path in sorted(logs.glob("*.log"), key=lambda p: (p.stat().st_mtime_ns, p.name)):
            tail += [f"[{path.stem}] {line}" for line in _tail(path, lines)]
    return tail[-lines:]


def log_tails(run_ids: list[str], home: Path | None = None) -> dict[str, list[str]]:
    runs = (home or samepack_home()) / "runs"
    tails = {run_id: log_tail(runs / run_id) for run_id in run_ids}
    return {run_id: tail for run_id, tail in tails.items() if tail}
