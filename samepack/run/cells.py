"""What a notebook step's cells printed, as the run records it: one item per cell
(``NOTEBOOK#cell-N``, kind ``cell``) whose sha256 is taken over the text with what changes from
run to run on its own blanked out — memory addresses, times of day, dates and durations — so
that reproduce compares what the cells computed, as a reader of the notebook would."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from samepack.run.masking import mask

_VOLATILE = [
    (re.compile(r"\b0x[0-9a-fA-F]{4,}\b"), "0x…"),
    (re.compile(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug"
                r"|Sep|Oct|Nov|Dec) \d{4}\b"), "<date>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\b"), "<date>"),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b"), "<time>"),
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:ns|µs|us|ms|s|sec|secs|seconds|min|minutes)\b"), "<duration>"),
]


def comparable_text(text: str) -> str:
    """``text`` with memory addresses, dates, times of day and durations replaced."""
    for pattern, placeholder in _VOLATILE:
        text = pattern.sub(placeholder, text)
    return text


def cell_outputs_file(run_dir: Path, step: str) -> Path:
    return run_dir / "cells" / f"{step}.json"


def cell_records(path: Path, notebook: str, secrets: list[str]) -> list[dict[str, Any]]:
    """The run record's items for the cells a step ran (empty when it wrote none). The file is
    only the channel from the step: it goes once read, since a cell may show a secret's value;
    the digests are taken over the text with those values masked."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    finally:
        path.unlink(missing_ok=True)
    items = []
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict) or not isinstance(cell.get("text"), str):
            continue
        text = mask(cell["text"], secrets)
        items.append({"path": f"{notebook}#cell-{cell.get('cell')}", "size": len(text.encode()),
                      "sha256": hashlib.sha256(comparable_text(text).encode()).hexdigest(),
                      "kind": "cell"})
    return items
