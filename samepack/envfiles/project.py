"""From a project directory and the user's options to :class:`LockInputs` and a
:class:`LockRequest` — shared by ``package-env`` and ``package-env --check``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from samepack.envfiles.atomic import is_generated
from samepack.envfiles.conda_pypi import pypi_equivalents, with_equivalents
from samepack.envfiles.environment_yml import read_environment_yml
from samepack.envfiles.envjson import EnvRecord
from samepack.envfiles.inputs import (LockInputs, choose_platforms, choose_python,
                                  direct_requirements, hardware_needs)
from samepack.envfiles.inputs_conda import conda_spec
from samepack.lock.base import LockerChoice, choose_locker
from samepack.lock.existing import (compiled_requirement_files, conda_lock_conda_pins,
                                    existing_pins)
from samepack.errors import InputError
from samepack.lock.indexes import IndexOptions
from samepack.lock.model import LockRequest
from samepack.lock.platforms import UV_PLATFORMS
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
    upgrade: bool = False  # let every version move (earlier locks' pins are not kept)
    upgrade_packages: tuple[str, ...] = ()  # let just these move


def scan_for_lock(root: Path, python: str | None) -> Scan:
    """Scan the project for the Python it will be locked for."""
    from samepack.scan import scan_project

    return scan_project(root, python)


def is_conda_project(scan: Scan, root: Path) -> bool:
    return bool(scan.conda_environment) or (root / "environment.yml").is_file()


def lock_inputs(scan: Scan, root: Path, options: EnvOptions, choice: LockerChoice,
                recorded: EnvRecord | None = None, why_pypi: str | None = None) -> LockInputs:
    """Everything the lock depends on; ``recorded`` fills in what the project does not say
    (Python, platforms) so a check on another machine compares like with like. A conda
    project locked by a pip locker gets its conda packages' PyPI equivalents (``why_pypi``
    says why, in the warning)."""
    # the Python the recorded lock was asked for, not the one a conda solve then chose
    asked = (recorded.inputs.get("python") or recorded.python) if recorded else None
    python = choose_python(options.python, scan, asked)
    platforms = choose_platforms(options.platforms or declared_platforms(root, scan),
                                 recorded.platforms if recorded else None)
    direct = direct_requirements(scan, root, replaced_lock_files(root, options.force)
                                 | compiled_user_locks(root))
    inputs = LockInputs(requirements=direct, python=python, platforms=platforms,
                        hardware=hardware_needs(scan))
    if choice.name == "conda-lock":
        spec = conda_spec(root, scan.conda_environment, direct, python, options.channels)
        if not spec.channels:
            spec = replace(spec, channels=(DEFAULT_CHANNEL,))
            inputs.notes.append(_no_channels_note(root, scan))
        inputs.conda = spec
    elif is_conda_project(scan, root):
        user_file = root / _environment_name(root, scan)
        if user_file.is_file() and not is_generated(user_file):
            environment = read_environment_yml(user_file)
            translation = pypi_equivalents(environment)
            inputs.requirements = with_equivalents(direct, translation, user_file.name)
            if why_pypi and not (environment.channels or options.channels):
                inputs.notes.append(_no_channels_note(root, scan))  # the channel tried first
            inputs.notes.append(translation.warning(why_pypi or f"--locker {choice.name}"))
    return inputs


DEFAULT_CHANNEL = "conda-forge"


def declared_platforms(root: Path, scan: Scan) -> tuple[str, ...]:
    """The platforms the user's ``environment.yml`` declares (conda-lock's ``platforms:`` key),
    which the lock covers unless ``--platform`` says otherwise; one samepack cannot lock for
    is an input error naming the file."""
    path = root / _environment_name(root, scan)
    if not path.is_file() or is_generated(path):
        return ()
    declared = read_environment_yml(path).platforms
    unknown = [p for p in declared if p not in UV_PLATFORMS]
    if unknown:
        raise InputError(f"{path.name}: platforms: {unknown[0]} is not a platform samepack can "
                         "lock for",
                         hint="keep platforms among " + ", ".join(sorted(UV_PLATFORMS))
                              + ", or choose them with --platform")
    return declared


def _no_channels_note(root: Path, scan: Scan) -> str:
    return (f"{_environment_name(root, scan)} names no channels: solving against "
            f"{DEFAULT_CHANNEL} (add channels: to choose others)")


def _environment_name(root: Path, scan: Scan) -> str:
    return scan.conda_environment or "environment.yml"


def replaced_lock_files(root: Path, force: bool) -> frozenset[str]:
    """A user ``requirements.txt`` that --force replaces while a ``requirements.in`` exists was
    compiled from it (pip-tools' flow): its pins are outputs, not inputs. Without a
    ``requirements.in`` its requirements are inputs, carried over into a new one."""
    lock = root / "requirements.txt"
    if force and lock.is_file() and not is_generated(lock) and (root / "requirements.in").is_file():
        return frozenset({"requirements.txt"})
    return frozenset()


def compiled_user_locks(root: Path) -> frozenset[str]:
    """A user's requirements file a resolver compiled (hashed, or pip-compile's output in
    pip-tools' ``.in`` -> ``.txt`` flow, at the root or in ``requirements/``) is a lock: its
    pins are kept as pins (preferences), not declared as direct requirements, so ``--upgrade``
    can still move them."""
    return frozenset(compiled_requirement_files(root))


def locker_choice(scan: Scan, root: Path, options: EnvOptions) -> LockerChoice:
    return choose_locker(options.locker, root, is_conda_project(scan, root))


def lock_request(inputs: LockInputs, options: EnvOptions, root: Path,
                 index: IndexOptions | None = None) -> LockRequest:
    """What the locker gets: the inputs, the index (the user's flags first, then what the
    project declares) and the pins of the lock files the project has, to keep."""
    kept = existing_pins(root).preferences(options.upgrade, options.upgrade_packages)
    kept_conda = (conda_lock_conda_pins(root).preferences(options.upgrade,
                                                          options.upgrade_packages)
                  if inputs.conda is not None else ())
    return LockRequest(requirements=tuple(r.requirement for r in inputs.requirements),
                       python=inputs.python, platforms=tuple(inputs.platforms),
                       from_env=options.from_env, index=index or options.index,
                       conda=inputs.conda, pylock=options.pylock, workdir=root,
                       preferences=kept, conda_preferences=kept_conda)
