"""Jupyter notebooks as programs (SAME style).

A notebook's code cells are split into steps by cells tagged ``same_step_N`` (cells before the
first tag form ``same_step_0``); a tag ``environment=NAME`` picks the step's environment. The
runner turns one step's cells into a plain script (``step_script``) and runs it with the
program's interpreter, so nothing but Python is needed where it runs. Parameters are injected
as assignments after the cell tagged ``parameters`` (papermill's convention) or at the top.

Each step is its own process, so what one step defines is carried to the next through a state
file (as SAME did): modules are re-imported, functions and classes the notebook defined are
re-run from their source, and other values are pickled; what cannot be pickled is reported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samepack.errors import InputError
from samepack.program.yamlsource import Source, parse_yaml

STEP_TAG = re.compile(r"^same_step_(\d+)$")
ENV_TAG = re.compile(r"^environment=(.+)$")
MAGIC = re.compile(r"^\s*(%|!)")


@dataclass
class NotebookStep:
    name: str
    environment: str | None = None
    cells: list[int] = field(default_factory=list)  # indexes of code cells
    magics: int = 0  # shell/magic lines that become comments


def read_notebook(path: Path) -> Source:
    """Parse a notebook, keeping line numbers (JSON is YAML); errors name the file."""
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


def _tags(cell: dict[str, Any]) -> list[str]:
    tags = (cell.get("metadata") or {}).get("tags") or []
    return [str(tag) for tag in tags] if isinstance(tags, list) else []


def notebook_steps(notebook: dict[str, Any]) -> list[NotebookStep]:
    """The steps of a notebook, in order; always at least one when it has code."""
    steps: list[NotebookStep] = []
    current: NotebookStep | None = None
    for index, cell in enumerate(notebook.get("cells") or []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        tags = _tags(cell)
        step_tag = next((m.group(1) for t in tags if (m := STEP_TAG.match(t))), None)
        if step_tag is not None or current is None:
            current = NotebookStep(name=f"same_step_{step_tag or 0}")
            steps.append(current)
        env = next((m.group(1) for t in tags if (m := ENV_TAG.match(t))), None)
        current.environment = env or current.environment
        current.cells.append(index)
        current.magics += sum(1 for line in cell_source(cell).splitlines() if MAGIC.match(line))
    return steps


def _assignments(params: dict[str, Any]) -> str:
    lines = ["# parameters injected by samepack"]
    lines += [f"{name} = {value!r}" for name, value in sorted(params.items())]
    return "\n".join(lines) + "\n"


def _code(cell: dict[str, Any]) -> str:
    lines = [("# " + line) if MAGIC.match(line) else line
             for line in cell_source(cell).splitlines()]
    return "\n".join(lines) + "\n"


RESTORE = """\
# state carried from earlier steps by samepack
import os as _sp_os, pickle as _sp_pickle
if _sp_os.path.exists({path!r}):
    with open({path!r}, "rb") as _sp_handle:
        _sp_state = _sp_pickle.load(_sp_handle)
    for _sp_alias, _sp_module in _sp_state["imports"].items():
        globals()[_sp_alias] = __import__("importlib").import_module(_sp_module)
    for _sp_source in _sp_state["sources"]:
        exec(_sp_source, globals())
    globals().update(_sp_state["values"])
    del _sp_state, _sp_alias, _sp_module, _sp_source, _sp_handle
"""

SAVE = """\
# state carried to later steps by samepack
def _sp_save(namespace, path):
    import inspect, pickle, sys, types
    state = {{"imports": {{}}, "sources": [], "values": {{}}}}
    for name, value in list(namespace.items()):
        if name.startswith("_") or name in ("In", "Out", "get_ipython", "exit", "quit"):
            continue
        if isinstance(value, types.ModuleType):
            state["imports"][name] = value.__name__
        elif (inspect.isroutine(value) or inspect.isclass(value)) \\
                and getattr(value, "__module__", None) == "__main__":
            try:
                state["sources"].append(inspect.getsource(value))
            except (OSError, TypeError):
                print(f"samepack: {{name}} cannot be carried to the next step", file=sys.stderr)
        else:
            try:
                state["values"][name] = pickle.loads(pickle.dumps(value))
            except Exception:
                print(f"samepack: {{name}} cannot be pickled; not carried to the next step", file=sys.stderr)
    with open(path, "wb") as handle:
        pickle.dump(state, handle)
_sp_save(globals(), {path!r})
"""


def step_script(notebook: dict[str, Any], step_name: str, params: dict[str, Any],
                state_path: str | None = None) -> str:
    """The Python source that runs ``step_name``'s cells with ``params`` injected; with
    ``state_path``, definitions are restored from and saved to that file around the cells."""
    step = next((s for s in notebook_steps(notebook) if s.name == step_name), None)
    if step is None:
        raise InputError(f"notebook has no step '{step_name}'",
                         "steps come from cells tagged same_step_N")
    cells = notebook["cells"]
    parts: list[str] = []
    injected = False
    for index in step.cells:
        parts.append(_code(cells[index]))
        if "parameters" in _tags(cells[index]):
            parts.append(_assignments(params))
            injected = True
    if not injected:
        parts.insert(0, _assignments(params))
    if state_path:
        parts = [RESTORE.format(path=state_path)] + parts + [SAVE.format(path=state_path)]
    return "\n".join(parts)


def split_selector(selector: str) -> tuple[str, str]:
    """``"nb.ipynb#same_step_1"`` -> ``("nb.ipynb", "same_step_1")``."""
    path, _, step = selector.partition("#")
    return path, step
