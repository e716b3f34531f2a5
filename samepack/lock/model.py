"""The values that pass between a project and a locker.

A :class:`LockRequest` says what to lock and for which target; a :class:`LockResult` carries the
rendered lock files (name -> text) and the exact pins, so writers and drift checks need no tool.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from samepack.lock.indexes import IndexOptions

ChoiceSource = Literal["flag", "pyproject", "auto"]


@dataclass(frozen=True)
class CondaSpec:
    """A conda environment to lock: what ``environment.yml`` says."""

    channels: tuple[str, ...]
    dependencies: tuple[str, ...]  # conda match specs
    pip: tuple[str, ...] = ()  # the ``pip:`` section, PEP 508
    name: str | None = None
    platforms: tuple[str, ...] = ()  # conda-lock's ``platforms:`` key: the targets it declares
    source: str = "environment.yml"  # the file it was read from, as errors name it


@dataclass(frozen=True)
class LockRequest:
    requirements: tuple[str, ...]  # PEP 508 direct requirements
    python: str | None = None  # target "3.10"; None = the running Python
    platforms: tuple[str, ...] = ()  # conda subdir names; () = this machine
    from_env: bool = False  # pin what the active environment has installed
    index: IndexOptions = field(default_factory=IndexOptions)
    conda: CondaSpec | None = None
    pylock: bool = False  # also write pylock.toml (PEP 751)
    workdir: Path | None = None  # where relative find-links / channels are resolved
    # ``name==version`` the resolver keeps where the requirements allow (earlier locks' pins)
    preferences: tuple[str, ...] = ()
    # ``name==version`` of conda packages the solver keeps where the specs allow (conda-lock.yml)
    conda_preferences: tuple[str, ...] = ()
    # what the target environment already has (a conda solution's Python packages):
    # ``name==version[ ; marker]`` constraints the resolver must keep, and the names it leaves
    # out of the lock since they are installed by other means
    installed: tuple[str, ...] = ()
    leave_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pin:
    name: str  # canonical
    version: str
    manager: Literal["pip", "conda"] = "pip"


@dataclass
class LockResult:
    locker: str
    files: dict[str, str]  # file name -> content, e.g. {"requirements.txt": "..."}
    pins: list[Pin]
    tool_versions: dict[str, str]
    python: str
    platforms: list[str]
