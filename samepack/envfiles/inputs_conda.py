"""The conda side of lock inputs: the project's ``environment.yml`` (or one made from the
scan), with pip requirements the code imports but conda does not provide."""

from __future__ import annotations

import re
from pathlib import Path

from samepack.envfiles.atomic import is_generated
from samepack.envfiles.environment_yml import read_environment_yml
from samepack.envfiles.requirements_in import DirectRequirement
from samepack.lock.model import CondaSpec

_CONDA_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def conda_spec(root: Path, environment: str | None, direct: list[DirectRequirement],
               python: str, channels: tuple[str, ...]) -> CondaSpec:
    """What the conda locker solves. ``environment`` is the project's environment file."""
    path = root / (environment or "environment.yml")
    if path.is_file() and not is_generated(path):
        spec = read_environment_yml(path)
    else:
        spec = CondaSpec(channels=("conda-forge",), name=root.name,
                         dependencies=(f"python={python}", *sorted(_as_conda(r) for r in direct)))
    conda_names = {_name(d) for d in spec.dependencies}
    pip = {_name(p): p for p in spec.pip}
    for requirement in direct:
        if requirement.name not in conda_names and requirement.name not in pip:
            pip[requirement.name] = requirement.requirement
    return CondaSpec(channels=channels or spec.channels, dependencies=spec.dependencies,
                     pip=tuple(pip[name] for name in sorted(pip)), name=spec.name,
                     platforms=spec.platforms, source=environment or "environment.yml")


def _name(spec: str) -> str:
    match = _CONDA_NAME.match(spec)
    return match.group(1).lower().replace("_", "-") if match else spec.lower()


def _as_conda(requirement: DirectRequirement) -> str:
    """A PEP 508 requirement as a conda match spec (extras and markers dropped)."""
    spec = requirement.requirement.split(";")[0]
    spec = re.sub(r"\[[^\]]*\]", "", spec).replace(" ", "")
    return spec.replace("~=", ">=")
