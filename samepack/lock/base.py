"""The locker interface and how one is chosen (flag > ``[tool.samepack] locker`` > auto)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import sys

from samepack.errors import InputError
from samepack.lock.model import ChoiceSource, LockRequest, LockResult

LOCKER_NAMES = ("uv", "pip-tools", "conda-lock")


class Locker(Protocol):
    name: str

    def lock(self, request: LockRequest) -> LockResult: ...


@dataclass(frozen=True)
class LockerChoice:
    name: str
    source: ChoiceSource


def get_locker(name: str) -> Locker:
    """The locker called ``name`` (imported on demand: conda pulls in heavy modules)."""
    if name == "uv":
        from samepack.lock.uv import UvLocker
        return UvLocker()
    if name == "pip-tools":
        from samepack.lock.piptools import PipToolsLocker
        return PipToolsLocker()
    if name == "conda-lock":
        from samepack.lock.conda import CondaLocker
        return CondaLocker()
    raise InputError(f"--locker {name}: unknown locker", hint="use one of " + ", ".join(LOCKER_NAMES))


def choose_locker(flag: str | None, project_dir: Path, is_conda: bool) -> LockerChoice:
    """Which locker to use and where that choice came from (recorded in ``env.json``)."""
    if flag:
        return LockerChoice(_checked(flag, "--locker"), "flag")
    configured = _pyproject_locker(project_dir / "pyproject.toml")
    if configured:
        return LockerChoice(configured, "pyproject")
    return LockerChoice("conda-lock" if is_conda else "uv", "auto")


def _pyproject_locker(path: Path) -> str | None:
    if not path.is_file():
        return None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as bad:
        raise InputError(f"{path.name}: not valid TOML ({bad})",
                         hint="fix the TOML syntax at the line named") from bad
    value = document.get("tool", {}).get("samepack", {}).get("locker")
    if value is None:
        return None
    return _checked(str(value), f"{path.name} [tool.samepack] locker")


def _checked(name: str, where: str) -> str:
    if name not in LOCKER_NAMES:
        raise InputError(f"{where}: unknown locker {name!r}",
                         hint="use one of " + ", ".join(LOCKER_NAMES))
    return name
