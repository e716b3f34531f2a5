"""From a project directory and the user's options to :class:`LockInputs` and a
:class:`LockRequest` — shared by ``package-env`` and ``package-env --check``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from samepack.envfiles.atomic import is_generated
from samepack.envfiles.envjson import EnvRecord
from samepack.envfiles.inputs import (LockInputs, choose_platforms, choose_python,
                                  direct_requirements, hardware_needs)
from samepack.envfiles.inputs_conda import conda_spec
from samepack.lock.base import LockerChoice, choose_locker
from samepack.lock.model import IndexOptions, LockRequest
from samepack.scan.model import Scan


@dataclass(frozen=True)
class EnvOptions:
    locker: str | None = None
    python: str | None = None
    platforms: tuple[str, ...] = ()
    from_env: bool = False
    index: IndexOptions = field(default_factory=IndexOptions)
    channels: tuple[str, ...] = ()
    pylock: bool = False
    force: bool = False


def scan_for_lock(root: Path, python: str | None) -> Scan:
    """Scan the project for the Python it will be locked for."""
    from samepack.scan import scan_project

    return scan_project(root, python)


def is_conda_project(scan: Scan, root: Path) -> bool:
    return bool(scan.conda_environment) or (root / "environment.yml").is_file()


def lock_inputs(scan: Scan, root: Path, options: EnvOptions, choice: LockerChoice,
                recorded: EnvRecord | None = None) -> LockInputs:
    """Everything the lock depends on; ``recorded`` fills in what the project does not say
    (Python, platforms) so a check on another machine compares like with like."""
    python = choose_python(options.python, scan, recorded.python if recorded else None)
    platforms = choose_platforms(options.platforms, recorded.platforms if recorded else None)
    direct = direct_requirements(scan, root, replaced_lock_files(root, options.force))
    inputs = LockInputs(requirements=direct, python=python, platforms=platforms,
                        hardware=hardware_needs(scan))
    if choice.name == "conda-lock":
        inputs.conda = conda_spec(root, scan.conda_environment, direct, python, options.channels)
    return inputs


def replaced_lock_files(root: Path, force: bool) -> frozenset[str]:
    """A user ``requirements.txt`` that --force replaces while a ``requirements.in`` exists was
    compiled from it (pip-tools' flow): its pins are outputs, not inputs. Without a
    ``requirements.in`` its requirements are inputs, carried over into a new one."""
    lock = root / "requirements.txt"
    if force and lock.is_file() and not is_generated(lock) and (root / "requirements.in").is_file():
        return frozenset({"requirements.txt"})
    return frozenset()


def locker_choice(scan: Scan, root: Path, options: EnvOptions) -> LockerChoice:
    return choose_locker(options.locker, root, is_conda_project(scan, root))


def lock_request(inputs: LockInputs, options: EnvOptions, root: Path) -> LockRequest:
    return LockRequest(requirements=tuple(r.requirement for r in inputs.requirements),
                       python=inputs.python, platforms=tuple(inputs.platforms),
                       from_env=options.from_env, index=options.index, conda=inputs.conda,
                       pylock=options.pylock, workdir=root)
