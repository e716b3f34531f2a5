"""``.devcontainer/devcontainer.json`` for a project: a host that fits the program
(``hostRequirements`` from its resources) with its locked environment recreated.

The image is the program's own (``environment.image``, by digest once built), else the
project's Dockerfile, else a Python devcontainer image of the program's Python version. The
post-create command recreates the locked environment: ``samepack env create`` when the project
has a lock record, else the lock installed with pip (``--require-hashes`` for a hashed one).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from samepack.envcreate.hardware import Needs

DEFAULT_PYTHON = "3.11"
PYTHON_IMAGE = "mcr.microsoft.com/devcontainers/python:1-{python}-bookworm"
TARGET = Path(".devcontainer") / "devcontainer.json"
_UNITS = (("tb", 10**12), ("gb", 10**9), ("mb", 10**6), ("kb", 10**3))


def size_text(size: int) -> str:
    """Bytes as the schema's ``^\\d+([tgmk]b)?$``, rounded up to a whole gb (mb below 1 gb)
    so that a host with the amount given certainly has enough."""
    if size >= 10**9:
        return f"{math.ceil(size / 10**9)}gb"
    return f"{max(1, math.ceil(size / 10**6))}mb"


def host_requirements(needs: Needs) -> dict:
    """The devcontainer ``hostRequirements`` for ``needs`` (only what is asked for)."""
    found: dict = {}
    if needs.cpus:
        found["cpus"] = max(1, needs.cpus)
    if needs.memory_bytes:
        found["memory"] = size_text(needs.memory_bytes)
    if needs.disk_bytes:
        found["storage"] = size_text(needs.disk_bytes)
    if needs.gpus:
        found["gpu"] = {"memory": size_text(needs.gpu_memory_bytes)} \
            if needs.gpu_memory_bytes else True
    return found


def _hashed(text: str) -> bool:
    return "--hash=sha256:" in text or "--hash sha256:" in text


def post_create(project: Path, lock: str | None, tool_version: str) -> str | None:
    """The command that recreates the locked environment inside the container."""
    if (project / ".samepack" / "env.json").is_file():
        return f"python -m pip install 'samepack=={tool_version}' && samepack env create"
    if lock and (project / lock).is_file() and lock.endswith(".txt"):
        flag = " --require-hashes" if _hashed((project / lock).read_text(encoding="utf-8",
                                                                          errors="replace")) else ""
        return f"python -m pip install{flag} -r {lock}"
    return None


def devcontainer_config(program, project: Path, needs: Needs, tool_version: str) -> dict:
    """The devcontainer definition (pure but for reading which files the project has)."""
    config: dict = {"name": f"{program.name} {program.version}"}
    if program.environment.image:
        config["image"] = program.environment.image
    elif (project / "Dockerfile").is_file():
        config["build"] = {"context": "..", "dockerfile": "../Dockerfile"}
    else:
        python = program.environment.python or needs.python or DEFAULT_PYTHON
        config["image"] = PYTHON_IMAGE.format(python=python)
    requirements = host_requirements(needs)
    if requirements:
        config["hostRequirements"] = requirements
    command = post_create(project, program.environment.lock, tool_version)
    if command:
        config["postCreateCommand"] = command
    if needs.gpus:
        config["runArgs"] = ["--gpus", "all"]
    return config


def render(config: dict) -> bytes:
    return json.dumps(config, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def write_devcontainer(project: Path, force: bool = False) -> tuple[Path, dict]:
    """Write PROJECT/.devcontainer/devcontainer.json for the project's program."""
    from samepack import __version__
    from samepack.bundle.system.atomic import check_overwrite
    from samepack.envcreate.hardware import needs_from_program
    from samepack.envfiles.atomic import write_atomic
    from samepack.program.loader import load_program

    project = Path(project).resolve()
    program = load_program(project)
    needs = needs_from_program(program)
    record = project / ".samepack" / "env.json"
    if record.is_file():
        from samepack.envcreate.hardware import needs_from_record
        from samepack.envfiles.envjson import read_env_record

        needs = needs.combined(needs_from_record(read_env_record(project)))
    config = devcontainer_config(program, project, needs, __version__)
    target = project / TARGET
    target.parent.mkdir(exist_ok=True)
    check_overwrite(target, force)
    write_atomic(target, render(config).decode("utf-8"))
    return target, config
