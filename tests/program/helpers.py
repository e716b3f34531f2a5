"""Small programs written on the fly for the runner tests."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

HEADER = """\
apiVersion: samepack.dev/v1
kind: Program
metadata: {name: NAME, version: "1.0"}
"""

LOG_METRIC = ("import json, os; open(os.environ['SAMEPACK_METRICS'], 'a')"
              ".write(json.dumps({'name': %r, 'value': %s}) + chr(10))")


def write_program(directory: Path, body: str, name: str = "demo") -> Path:
    """``directory/samepack.yaml`` with the standard header and ``body`` (YAML sections)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "samepack.yaml"
    path.write_text(HEADER.replace("NAME", name) + body)
    return path


def py(code: str) -> str:
    """A step command running ``code`` with the step's Python."""
    return "python -c " + shlex.quote(code)


def step(name: str, run: str, **extra: object) -> str:
    """One line of a ``steps:`` mapping (JSON is valid YAML flow style)."""
    return f"  {name}: {json.dumps({'run': run, **extra})}\n"


def last_run():
    """The latest run in this test's history (the store is closed again)."""
    from samepack.history import History

    history = History()
    try:
        return history.list_runs(limit=1)[0]
    finally:
        history.close()
