"""Jupyter notebooks as programs (SAME style): reading a notebook and splitting it into steps.

A notebook is split into steps the way SAME splits it: a cell of any kind (markdown too) tagged
``same_step_N`` starts a new step, except on the notebook's first cell; the cells before the
first such tag form ``same_step_0``. Tags on a step's cells also set its ``environment=NAME``,
``image=IMAGE`` and ``cache=DURATION``. Only code cells contribute code.

The runner turns one step's cells into a plain script (``notebook_script.step_script``) and
runs it with the program's interpreter; what one step defines is carried to the next.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from samepack.errors import InputError

if TYPE_CHECKING:  # PyYAML is loaded where a notebook is read: a run of other steps needs none
    from samepack.program.yamlsource import Source

STEP_TAG = re.compile(r"^same_step_(\d+)$")
ENV_TAG = re.compile(r"^environment=(.+)$")
IMAGE_TAG = re.compile(r"^image=(.+)$")
CACHE_TAG = re.compile(r"^cache=(.+)$")
MAGIC = re.compile(r"^\s*(%|!)")
NO_CACHE = {"P0D", "PT0S", "0"}  # SAME's default: results are never reused


@dataclass
class NotebookStep:
    """One SAME step of a notebook: its code cells and what its tags set."""

    name: str
    environment: str | None = None
    image: str | None = None
    cache: str | None = None  # SAME's cache duration (ISO 8601), when not the default P0D
    cells: list[int] = field(default_factory=list)  # indexes of code cells
    magics: int = 0  # shell/magic lines that become comments


def read_notebook(path: Path) -> "Source":
    """Parse a notebook, keeping line numbers (JSON is YAML); errors name the file."""
    from samepack.program.yamlsource import Source, parse_yaml

    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read: {error}", "check the path") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path.name}:{error.lineno}: invalid notebook JSON: {error.msg}") from None
    try:
        return parse_yaml(text, path.name)
    except InputError:  # JSON that PyYAML cannot read (rare escapes): lose line numbers only
        return Source(file=path.name, data=json.loads(text))


def cell_source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def cell_tags(cell: dict[str, Any]) -> list[str]:
    tags = (cell.get("metadata") or {}).get("tags") or []
    return [str(tag) for tag in tags] if isinstance(tags, list) else []


def _unique(name: str, taken: set[str]) -> str:
    """A tag number used twice gives a second step (SAME silently dropped the first one)."""
    if name not in taken:
        return name
    count = 2
    while f"{name}_{count}" in taken:
        count += 1
    return f"{name}_{count}"


def notebook_steps(notebook: dict[str, Any]) -> list[NotebookStep]:
    """The steps of a notebook, in order (SAME's rules); at least one when it has cells."""
    steps: list[NotebookStep] = []
    for index, cell in enumerate(notebook.get("cells") or []):
        if not isinstance(cell, dict):
            continue
        tags = cell_tags(cell)
        number = next((m.group(1) for t in tags if (m := STEP_TAG.match(t))), None)
        if not steps or (number is not None and index > 0):
            name = _unique(f"same_step_{number or 0}", {s.name for s in steps})
            steps.append(NotebookStep(name=name))
        current = steps[-1]
        for tag in tags:
            if m := ENV_TAG.match(tag):
                current.environment = m.group(1)
            elif m := IMAGE_TAG.match(tag):
                current.image = m.group(1)
            elif m := CACHE_TAG.match(tag):
                current.cache = None if m.group(1) in NO_CACHE else m.group(1)
        if cell.get("cell_type") == "code":
            current.cells.append(index)
            current.magics += sum(1 for line in cell_source(cell).splitlines() if MAGIC.match(line))
    return steps


def step_script(notebook: dict[str, Any], step_name: str, params: dict[str, Any],
                state_path: str | None = None) -> str:
    """The Python source that runs ``step_name``'s cells (see ``notebook_script``)."""
    from samepack.program.notebook_script import step_script as build

    return build(notebook, step_name, params, state_path)


def split_selector(selector: str) -> tuple[str, str]:
    """``"nb.ipynb#same_step_1"`` -> ``("nb.ipynb", "same_step_1")``."""
    path, _, step = selector.partition("#")
    return path, step
