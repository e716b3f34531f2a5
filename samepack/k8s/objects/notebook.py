"""The container command of a notebook step: the step's cells, made into a script exactly as a
local run makes it (``samepack.program.notebook_script``), carried in the command itself.

The image has Python but not samepack, so the command writes the script into the workspace
and runs it there with the step's interpreter; the notebook's state file lives beside it in
the shared workspace, so the steps of one pod (or of Jobs sharing the workspace) carry state as
they do locally. The notebook is read at render time from the program's project directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from samepack.errors import InputError
from samepack.program.model import Program, Step
from samepack.program.notebook import read_notebook, split_selector, step_script

# Runs in the pod: write argv[2] to argv[1], then replace this process with the script.
LAUNCH = ("import os, sys; path, text = sys.argv[1], sys.argv[2]; "
          "os.makedirs(os.path.dirname(path), exist_ok=True); "
          "open(path, 'w', encoding='utf-8').write(text); "
          "os.execv(sys.executable, [sys.executable, path])")


def notebook_command(program: Program, step: Step, params: dict[str, Any], workspace: str,
                     interpreter: list[str]) -> list[str]:
    """``interpreter`` (the step's own command words, e.g. ``["python"]``) running the script
    made from the step's cells, with ``params`` injected and state kept under ``workspace``."""
    notebook_path, step_name = split_selector(step.notebook or "")
    if not program.project_dir:
        raise InputError(f"steps.{step.name}.notebook: the program has no project directory to "
                         f"read {notebook_path} from", "render it from a program file or a "
                         "registered program")
    file = Path(program.project_dir) / notebook_path
    if not file.is_file():
        raise InputError(f"steps.{step.name}.notebook: {file} not found",
                         "render the program where its notebook is")
    notebook = read_notebook(file).data
    base = f"{workspace}/.samepack/notebooks"
    state = f"{base}/{Path(notebook_path).stem}.state.pickle"
    script = step_script(notebook, step_name, params, state)
    return [*interpreter, "-c", LAUNCH, f"{base}/{step.name}.py", script]
