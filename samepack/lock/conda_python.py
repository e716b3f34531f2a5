"""The Python distributions a conda solution provides, by their PyPI names, so that the
``pip:`` part of an environment is locked against them and never replaces them.

A conda package is taken to be a Python distribution when it depends on ``python`` (C libraries,
compilers and tools such as ``cmake`` do not) and its name has a PyPI equivalent
(``samepack/data/import_map.json``: ``pytorch`` -> ``torch``, ``matplotlib-base`` ->
``matplotlib``; conda-only names such as ``pip`` or ``python`` have none). This is the rule
conda-lock's own pip solver applies (``conda_lock/pypi_solver.py``: packages that do not depend
on Python are ignored, the others mapped to their PyPI names and treated as installed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from packaging.version import InvalidVersion, Version

from samepack.scan.names import canonical_name

# conda subdir -> the PEP 508 marker of that platform, for constraints that differ by platform
PLATFORM_MARKERS = {
    "linux-64": "sys_platform == 'linux' and platform_machine == 'x86_64'",
    "linux-aarch64": "sys_platform == 'linux' and platform_machine == 'aarch64'",
    "osx-64": "sys_platform == 'darwin' and platform_machine == 'x86_64'",
    "osx-arm64": "sys_platform == 'darwin' and platform_machine == 'arm64'",
    "win-64": "sys_platform == 'win32'",
}


@dataclass(frozen=True)
class CondaPackage:
    """What the rule needs of one conda package: its name, version and dependency names."""

    name: str
    version: str
    depends: tuple[str, ...]  # names only, no version specs


def python_distributions(packages: Iterable[CondaPackage]) -> dict[str, str]:
    """``{canonical PyPI name: conda version}`` of the Python distributions among ``packages``
    (one platform's solution). Where two conda packages stand for one PyPI name, the one whose
    conda name differs from it wins (conda-lock's choice: ``python-xxhash`` over ``xxhash``)."""
    from samepack.scan.resolve.mapping import conda_to_pypi

    found: dict[str, str] = {}
    for package in sorted(packages, key=lambda p: (p.name, p.version)):
        if package.name.startswith("__") or "python" not in package.depends:
            continue
        pypi = conda_to_pypi(package.name)
        if not pypi:
            continue
        name = canonical_name(pypi)
        if name not in found or name != package.name:
            found[name] = package.version
    return dict(sorted(found.items()))


def from_rattler(records: Iterable[Any]) -> list[CondaPackage]:
    """Solved rattler records as :class:`CondaPackage`."""
    return [CondaPackage(record.name.normalized, str(record.version),
                         tuple(_dep_name(d) for d in record.depends)) for record in records]


def from_lock_entries(entries: Iterable[dict]) -> list[CondaPackage]:
    """A conda-lock file's ``manager: conda`` entries (``dependencies`` is name -> spec)."""
    return [CondaPackage(str(e["name"]), str(e["version"]), tuple(e.get("dependencies") or {}))
            for e in entries]


def _dep_name(depend: str) -> str:
    return depend.strip().split(" ", 1)[0].split("[", 1)[0]


@dataclass(frozen=True)
class CondaProvided:
    """The Python distributions of a conda solution on each locked platform."""

    by_platform: dict[str, dict[str, str]]  # platform -> {canonical PyPI name: conda version}

    def constraints(self) -> list[str]:
        """``name==version`` for the pip resolver: one line where every platform has the same
        version, one line per platform (with its marker) where they differ or where only some
        platforms have the package. Versions PEP 440 cannot read constrain nothing."""
        platforms = sorted(self.by_platform)
        lines: list[str] = []
        for name in self.names():
            versions = {p: self.by_platform[p][name] for p in platforms
                        if name in self.by_platform[p] and _is_pep440(self.by_platform[p][name])}
            if not versions:
                continue
            if len(set(versions.values())) == 1 and len(versions) == len(platforms):
                lines.append(f"{name}=={next(iter(versions.values()))}")
                continue
            lines += [f"{name}=={version} ; {PLATFORM_MARKERS[platform]}"
                      for platform, version in versions.items()]
        return lines

    def everywhere(self) -> list[str]:
        """The names conda provides on every platform: left out of the pip lock."""
        sets = [set(found) for found in self.by_platform.values()]
        return sorted(set.intersection(*sets)) if sets else []

    def names(self) -> list[str]:
        return sorted({name for found in self.by_platform.values() for name in found})

    def version_text(self, name: str) -> str:
        """``numpy 1.26.4`` (or ``numpy 1.26.4 on linux-64, 1.26.3 on osx-arm64``)."""
        versions = {p: f[name] for p, f in sorted(self.by_platform.items()) if name in f}
        if len(set(versions.values())) == 1:
            return f"{name} {next(iter(versions.values()))}"
        return f"{name} " + ", ".join(f"{v} on {p}" for p, v in versions.items())


def provided_by(records: dict[str, list[Any]]) -> CondaProvided:
    """The Python distributions of rattler's solution, per platform."""
    return CondaProvided({platform: python_distributions(from_rattler(solved))
                          for platform, solved in sorted(records.items())})


def _is_pep440(version: str) -> bool:
    try:
        Version(version)
    except InvalidVersion:
        return False
    return True
