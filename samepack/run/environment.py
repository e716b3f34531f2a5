"""Which Python a program's steps run with, and the provenance recorded with each run
(lock digest, git commit, host facts).

The interpreter is the project's environment made by ``samepack env create`` when there is one
(``samepack.envcreate.environment_python``), else the interpreter running samepack. A run-local ``bin/`` with
``python``/``python3`` wrappers for it goes first on PATH, so ``python`` in a step means that
interpreter whatever else PATH holds.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from samepack.machine import probe_machine
from samepack.program.model import Program


def project_interpreter(workdir: Path) -> Path | None:
    """The interpreter of the environment ``samepack env create`` made for this project."""
    try:
        from samepack.envcreate import environment_python
    except ImportError:  # an installation without the environment tooling
        return None
    found = environment_python(workdir)
    return Path(found) if found else None


def prepare_bin(run_dir: Path, interpreter: Path) -> Path:
    """``run_dir/bin`` with ``python`` and ``python3`` scripts that exec ``interpreter`` (a
    wrapper, not a symlink: a virtual environment is only recognised from its own path)."""
    bin_dir = run_dir / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in ("python", "python3"):
        wrapper = bin_dir / name
        wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(str(interpreter))} "$@"\n')
        wrapper.chmod(0o755)
    return bin_dir


def step_path(bin_dir: Path, interpreter: Path) -> str:
    """PATH for steps: the run's bin, the interpreter's own bin (console scripts), then the rest."""
    parts = [str(bin_dir), str(interpreter.parent), os.environ.get("PATH", "")]
    return os.pathsep.join(p for p in parts if p)


def choose_interpreter(workdir: Path) -> Path:
    return project_interpreter(workdir) or Path(sys.executable)


def lock_digest(program: Program, workdir: Path) -> str | None:
    """sha256 of the program's lock file, when it has one in the working directory."""
    lock = program.environment.lock or program.environment.conda
    if not lock or not (workdir / lock).is_file():
        return None
    return "sha256:" + hashlib.sha256((workdir / lock).read_bytes()).hexdigest()


def git_state(workdir: Path) -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the git checkout holding ``workdir``; ``(None, None)`` outside one."""
    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(["git", *args], cwd=workdir, capture_output=True, text=True,
                                    timeout=20)
        except (OSError, subprocess.SubprocessError):
            return None
        return result.stdout if result.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return None, None
    status = git("status", "--porcelain", "--untracked-files=no", "--", ".")
    return commit.strip(), bool(status and status.strip())


def interpreter_version(interpreter: Path | None) -> str:
    """The Python version steps run with (this process's when ``interpreter`` is None or ours)."""
    if interpreter is None or Path(interpreter) == Path(sys.executable):
        return platform.python_version()
    try:
        result = subprocess.run(
            [str(interpreter), "-c", "import platform; print(platform.python_version())"],
            capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


def host_facts(workdir: Path, interpreter: Path | None = None) -> dict[str, Any]:
    """The machine a run ran on; ``python`` is the version of the interpreter the steps use."""
    facts = probe_machine(workdir)
    return {"hostname": socket.gethostname(), "platform": facts.platform or platform.platform(),
            "python": interpreter_version(interpreter), "cpus": facts.cpus,
            "memory": facts.memory_bytes, "gpus": [g.name for g in facts.gpus]}
