"""Lock files a project already has, read as pins the new lock keeps.

``uv.lock``, ``poetry.lock``, ``Pipfile.lock``, ``pylock.toml``, ``conda-lock.yml`` (its pip
part) and a compiled ``requirements.txt`` (hashed, or headed by pip-compile or uv) each say which version of every package the project
was last resolved to. samepack hands those versions to the resolver as *preferences* (the
versions an existing output file gives ``uv pip compile`` and ``pip-compile``): they are kept
unless a requirement now excludes them, and move only with ``--upgrade`` or
``--upgrade-package NAME``, as in pip-tools and uv.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from samepack.envfiles.atomic import is_generated
from samepack.errors import InputError
from samepack.lock.pins import pins_from_requirements
from samepack.scan.names import canonical_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass
class ExistingPins:
    """The versions earlier locks chose: ``name -> version``, and the files they came from."""

    pins: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def preferences(self, upgrade: bool, upgrade_packages: tuple[str, ...] = ()) -> tuple[str, ...]:
        """``name==version`` lines for the resolver, without what the user asked to upgrade."""
        if upgrade:
            return ()
        moving = {canonical_name(name) for name in upgrade_packages}
        return tuple(f"{name}=={version}" for name, version in sorted(self.pins.items())
                     if canonical_name(name) not in moving)


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as bad:
        raise InputError(f"{path.name}: not valid TOML ({bad})",
                         hint=f"fix {path.name}, or move it aside to lock without it") from bad


def _from_packages(entries: Any, skip: Callable[[dict], bool] = lambda _: False) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or skip(entry):
            continue
        name, version = entry.get("name"), entry.get("version")
        if isinstance(name, str) and isinstance(version, str) and version:
            found.setdefault(canonical_name(name), []).append(version)
    return found


def _uv_lock(path: Path) -> dict[str, list[str]]:
    """uv's ``[[package]]`` tables; the project itself (editable, virtual) is no pin."""
    def own(entry: dict) -> bool:
        source = entry.get("source") or {}
        return any(key in source for key in ("editable", "virtual", "directory", "path"))
    return _from_packages(_toml(path).get("package"), own)


def _poetry_lock(path: Path) -> dict[str, list[str]]:
    def local(entry: dict) -> bool:
        return (entry.get("source") or {}).get("type") in ("directory", "file", "git")
    return _from_packages(_toml(path).get("package"), local)


def _pylock(path: Path) -> dict[str, list[str]]:
    """PEP 751 ``[[packages]]``; entries without a version (directories, VCS) are no pins, nor
    are those only for a dependency group or an extra."""
    def not_runtime(entry: dict) -> bool:
        marker = entry.get("marker") or ""
        return "dependency_groups" in marker or "extras" in marker
    return _from_packages(_toml(path).get("packages"), not_runtime)


def _pipfile_lock(path: Path) -> dict[str, list[str]]:
    """Pipfile.lock's ``default`` section (``develop`` is not part of the environment)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as bad:
        raise InputError(f"{path.name}: not valid JSON ({bad})",
                         hint=f"fix {path.name}, or move it aside to lock without it") from bad
    found: dict[str, list[str]] = {}
    default = data.get("default") if isinstance(data, dict) else None
    for name, entry in (default or {}).items():
        version = entry.get("version", "") if isinstance(entry, dict) else ""
        if isinstance(version, str) and version.startswith("=="):
            found.setdefault(canonical_name(name), []).append(version[2:])
    return found


def _conda_lock_packages(path: Path) -> list[Any]:
    """A conda-lock file's ``package`` entries, parsed once per version of the file: both its
    pip part (a pin reader) and its conda part (the conda solve's preferences) read them."""
    facts = path.stat()
    return _parsed_conda_lock(str(path), facts.st_mtime_ns, facts.st_size)


@lru_cache(maxsize=4)
def _parsed_conda_lock(path: str, mtime_ns: int, size: int) -> list[Any]:
    import yaml  # only conda projects pay for it

    name = Path(path).name
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as bad:
        mark, problem = getattr(bad, "problem_mark", None), getattr(bad, "problem", None)
        where = f"line {mark.line + 1}: {problem}" if mark and problem else str(bad).splitlines()[0]
        raise InputError(f"{name}: not valid YAML ({where})",
                         hint=f"fix {name}, or move it aside to lock without it") from bad
    packages = data.get("package") if isinstance(data, dict) else None
    return packages if isinstance(packages, list) else []


def _conda_lock(path: Path) -> dict[str, list[str]]:
    """The pip packages of a conda-lock file (its conda part is the conda locker's)."""
    return _from_packages(_conda_lock_packages(path), lambda entry: entry.get("manager") != "pip")


def conda_lock_conda_pins(root: Path) -> ExistingPins:
    """The conda packages an existing conda lock chose (``name -> version``, names as conda
    spells them): samepack's own ``conda-lock.samepack.yml`` when it went beside the user's,
    else ``conda-lock.yml``. A name locked at several versions (one per platform) is left to
    the solver."""
    from samepack.envfiles.locations import BESIDE_CONDA_LOCK, CONDA_LOCK

    name = next((n for n in (BESIDE_CONDA_LOCK, CONDA_LOCK) if (root / n).is_file()), None)
    found: dict[str, set[str]] = {}
    for entry in _conda_lock_packages(root / name) if name else []:
        if isinstance(entry, dict) and entry.get("manager", "conda") == "conda":
            package, version = entry.get("name"), entry.get("version")
            if isinstance(package, str) and isinstance(version, str) and version:
                found.setdefault(package.lower(), set()).add(version)
    pins = {package: next(iter(versions)) for package, versions in sorted(found.items())
            if len(versions) == 1}
    return ExistingPins(pins=pins, sources=[name] if pins and name else [])


def _compiled_requirements(path: Path) -> dict[str, list[str]]:
    if not is_compiled_lock(path):
        return {}  # a hand-written list of requirements is a declaration, not a lock
    text = path.read_text(encoding="utf-8", errors="replace")
    return {pin.name: [pin.version] for pin in pins_from_requirements(text)}


# file name -> reader; the first file to pin a name wins
READERS: dict[str, Callable[[Path], dict[str, list[str]]]] = {
    "uv.lock": _uv_lock,
    "pylock.toml": _pylock,
    "poetry.lock": _poetry_lock,
    "Pipfile.lock": _pipfile_lock,
    "conda-lock.yml": _conda_lock,
    "conda-lock.samepack.yml": _conda_lock,
    "requirements.txt": _compiled_requirements,
    "requirements.lock": _compiled_requirements,
}


# The first lines pip-compile and ``uv pip compile`` write above what they resolved.
_COMPILED_BY = ("# This file is autogenerated by pip-compile",
                "# This file was autogenerated by uv via")


def is_compiled_lock(path: Path) -> bool:
    """A requirements file a resolver wrote: pinned with hashes, or headed by pip-compile's or
    uv's own "autogenerated" line (pip-tools' flow compiles ``requirements.txt`` from
    ``requirements.in`` without hashes by default). Its pins are a lock, whoever wrote it."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    except OSError:
        return False
    head = [line.strip() for line in text.splitlines()[:3]]
    return "--hash=" in text or any(line.startswith(_COMPILED_BY) for line in head)


def compiled_requirement_files(root: Path) -> list[str]:
    """The user's requirement files a resolver compiled, relative to ``root``: besides
    ``requirements.txt`` and ``requirements.lock``, ``requirements*.txt`` at the root and the
    ``.txt`` files in ``requirements/`` (pip-tools' ``requirements/NAME.in`` ->
    ``requirements/NAME.txt``). samepack's own generated files are not among them."""
    names = {name for name in ("requirements.txt", "requirements.lock") if (root / name).is_file()}
    names |= {p.name for p in root.glob("requirements*.txt")}
    folder = root / "requirements"
    if folder.is_dir():
        names |= {f"requirements/{p.name}" for p in folder.glob("*.txt")}
    return sorted(name for name in names
                  if not is_generated(root / name) and is_compiled_lock(root / name))


def existing_pins(root: Path, names: tuple[str, ...] | None = None) -> ExistingPins:
    """Pins from the lock files at the project root (all known kinds and every compiled
    requirement file, or just ``names``). A name a file pins to several versions (one per
    platform or Python) is left to the resolver."""
    result = ExistingPins()
    if names is not None:
        candidates = names
    else:
        candidates = tuple(dict.fromkeys([*READERS, *compiled_requirement_files(root)]))
    # samepack's own last lock first: once it has locked, its versions are the project's
    ordered = sorted(candidates, key=lambda name: not is_generated(root / name))
    for name in ordered:
        path = root / name
        reader = READERS.get(name) or (_compiled_requirements if name.endswith(".txt") else None)
        if reader is None or not path.is_file():
            continue
        found = reader(path)
        if not found:
            continue
        result.sources.append(name)
        for package, versions in sorted(found.items()):
            if len(set(versions)) == 1:
                result.pins.setdefault(package, versions[0])
    return result
