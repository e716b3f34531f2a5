"""How a program's steps find their Python and their project, and the provenance recorded with
each run (lock digest, git commit, host facts).

The interpreter is the program's locked environment (``samepack.run.envcache``). A run-local
``bin/`` with ``python``/``python3`` wrappers for it goes first on PATH, so ``python`` in a step
means that interpreter whatever else PATH holds.
"""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from samepack.machine import probe_machine


def prepare_bin(run_dir: Path, interpreter: Path) -> Path | None:
    """A folder whose ``python`` and ``python3`` start ``interpreter``, to go first on PATH:
    the interpreter's own folder when both names there are it (a virtual environment's
    ``bin``, a Python installation's), else ``run_dir/bin`` with scripts that exec it (a
    wrapper, not a symlink: a virtual environment is only recognised from its own path).
    None: the interpreter's own folder, which :func:`step_path` puts first anyway."""
    if _names_start(interpreter):
        return None
    bin_dir = run_dir / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in ("python", "python3"):
        wrapper = bin_dir / name
        wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(str(interpreter))} "$@"\n')
        wrapper.chmod(0o755)
    return bin_dir


def _names_start(interpreter: Path) -> bool:
    """Whether ``python`` and ``python3`` beside ``interpreter`` are the same program: run by
    either name from that folder, Python finds the same environment as ``interpreter``."""
    try:
        return all(os.path.samefile(interpreter.parent / name, interpreter)
                   for name in ("python", "python3"))
    except OSError:
        return False


def step_path(bin_dir: Path | None, interpreter: Path) -> str:
    """PATH for steps: the run's bin (if it needs one), the interpreter's own bin (console
    scripts), then the rest."""
    parts = [str(bin_dir) if bin_dir else "", str(interpreter.parent), os.environ.get("PATH", "")]
    return os.pathsep.join(p for p in parts if p)


def project_path(workdir: Path, existing: str | None) -> str:
    """PYTHONPATH for steps: the project's root (and its ``src/`` in a src layout) first, so the
    project's own package imports in every step as it does in the author's checkout."""
    parts = [str(workdir)]
    src = workdir / "src"
    if src.is_dir() and any(child.is_dir() and (child / "__init__.py").is_file()
                            for child in src.iterdir()):
        parts.append(str(src))
    if existing:
        parts.append(existing)
    return os.pathsep.join(parts)


def git_state(workdir: Path) -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the git checkout holding ``workdir``; ``(None, None)`` outside one."""
    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(["git", *args], cwd=workdir, capture_output=True, text=True,
                                    timeout=20)
        except (OSError, subprocess.SubprocessError):
            return None
        return result.stdout if result.returncode == 0 else None

    if not _may_be_in_git(workdir):
        return None, None
    commit = git("rev-parse", "HEAD")
    if not commit:
        return None, None
    status = git("status", "--porcelain", "--untracked-files=no", "--", ".")
    return commit.strip(), bool(status and status.strip())


def _may_be_in_git(workdir: Path) -> bool:
    """Whether git could find a repository for ``workdir``: a ``.git`` in it or above, or git
    told where one is. Looked up with a few stats, so a run outside a checkout starts no git."""
    if any(os.environ.get(name) for name in ("GIT_DIR", "GIT_WORK_TREE")):
        return True
    folder = workdir.resolve()
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate / ".git"):
            return True
    return False


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


def hostname() -> str:
    """This machine's name: the kernel's node name where POSIX has it (what gethostname
    returns there, without loading the socket module), else the socket module's answer."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def host_facts(workdir: Path, python_version: str | None = None) -> dict[str, Any]:
    """The machine a run ran on; ``python`` is the version of the interpreter the steps use
    (``python_version``, or this process's when None)."""
    facts = probe_machine(workdir)
    return {"hostname": hostname(), "platform": facts.platform or platform.platform(),
            "python": python_version or platform.python_version(), "cpus": facts.cpus,
            "memory": facts.memory_bytes, "gpus": [g.name for g in facts.gpus]}
