"""The value a scan produces. Every detector contributes findings; every finding keeps evidence.

This module is pure data: no I/O. ``Scan.to_json()`` is the stable, documented ``--json`` schema
(``docs/scan-json.md``); bump ``SCAN_SCHEMA_VERSION`` when its shape changes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

SCAN_SCHEMA_VERSION = 1


@dataclass(frozen=True, order=True)
class Evidence:
    """Where a finding came from: a path relative to the project root (POSIX) and a 1-based line."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


MappingSource = Literal["user", "installed", "table", "identity"]


@dataclass
class ImportFinding:
    """One imported top-level module (or namespace path such as ``google.cloud.storage``)."""

    module: str
    distribution: str | None  # None for stdlib / project-local modules
    mapping_source: MappingSource | None
    optional: bool  # every use sits in try/except ImportError or `if TYPE_CHECKING`
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class DeclaredRequirement:
    """A dependency a project file declares (requirements, pyproject, setup, conda, Pipfile)."""

    name: str  # canonical distribution name (PEP 503 normalised)
    requirement: str  # as declared, PEP 508 (``pandas>=2; python_version>'3.9'``) or conda spec
    ecosystem: Literal["pypi", "conda"]
    evidence: Evidence
    group: str | None = None  # None for runtime deps; "dev", an extra's name, "notebook" otherwise


DependencyStatus = Literal["used", "undeclared", "unused"]


@dataclass
class Dependency:
    """A distribution the project needs, joining what the code imports and what files declare.

    ``status``: ``used`` (imported and declared), ``undeclared`` (imported, declared nowhere),
    ``unused`` (declared, never imported — may still be a runtime plugin).
    ``optional``: only imported inside ``try/except ImportError`` or ``if TYPE_CHECKING`` and
    not declared as a runtime dependency, or declared only in an optional group (extras, dev).
    """

    name: str
    requirement: str  # the requirement to lock: the declared spec when there is one, else the name
    status: DependencyStatus
    optional: bool
    imports: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class PythonFinding:
    version: str | None  # e.g. "3.11" or a specifier ">=3.10"
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class SystemLibrary:
    name: str  # Debian package name, e.g. libgl1
    reason: str
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class HardwareNeeds:
    gpu: bool = False
    multi_gpu: bool = False
    cuda: str | None = None  # e.g. "12.1" from a +cu121 pin or nvidia-* packages
    accelerators: list[str] = field(default_factory=list)  # "cuda", "rocm", "mps", "tpu"
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Problem:
    """A file the scanner could not read or parse; reported, never fatal."""

    path: str
    reason: str


@dataclass
class Scan:
    root: str
    target_python: str  # the Python version whose stdlib was used, e.g. "3.11"
    python: PythonFinding
    dependencies: list[Dependency] = field(default_factory=list)
    imports: list[ImportFinding] = field(default_factory=list)
    declared: list[DeclaredRequirement] = field(default_factory=list)
    system_libraries: list[SystemLibrary] = field(default_factory=list)
    hardware: HardwareNeeds = field(default_factory=HardwareNeeds)
    local_modules: list[str] = field(default_factory=list)
    conda_environment: str | None = None  # path of environment.yml when the project is conda
    files_scanned: int = 0
    problems: list[Problem] = field(default_factory=list)
    parse_mode: Literal["full", "fast"] = "full"  # how sources were read (docs/scan-json.md)
    mapping_sources: list[str] = field(default_factory=list)  # e.g. ["user", "installed", "table"]

    def requirements(self, include_unused: bool = True) -> list[str]:
        """The direct requirements to lock, sorted by name: every non-optional dependency
        (``include_unused=False`` also drops declared-but-never-imported ones)."""
        chosen = [d for d in self.dependencies
                  if not d.optional and (include_unused or d.status != "unused")]
        return [d.requirement for d in sorted(chosen, key=lambda d: d.name)]

    def to_json(self) -> dict[str, Any]:
        """The documented ``--json`` document. The absolute root is left out so the document
        does not depend on where the project lives; ``project`` is the root's directory name."""
        data = asdict(self)
        data.pop("root")
        data = {"schema_version": SCAN_SCHEMA_VERSION, "project": Path(self.root).name, **data}
        return data
