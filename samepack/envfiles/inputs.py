"""From a scan to what gets locked: the direct requirements, Python, platforms, hardware needs,
and the inputs hash that says whether an existing lock is stale.

Files samepack wrote itself must not feed back into the next lock: a generated
``requirements.txt`` pins every transitive package, and the section samepack maintains at the end
of ``requirements.in`` would keep a requirement alive after the code stopped importing it. So
declarations count only from the user's own files and from ``requirements.in`` above the
samepack marker; the maintained section only lends its version specifiers to packages the code
still imports.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from samepack.envfiles.atomic import is_generated
from samepack.envfiles.requirements_in import ADDED_MARKER, DirectRequirement
from samepack.lock.model import CondaSpec
from samepack.lock.platforms import normalise_platforms, target_python
from samepack.scan.model import DeclaredRequirement, Evidence, Scan

INPUTS_FORMAT = 1
RUNTIME_GROUPS = (None, "notebook")  # declaration groups that are part of the environment
_NAME_ONLY = re.compile(r"^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*$")


@dataclass
class LockInputs:
    requirements: list[DirectRequirement]
    python: str
    platforms: list[str]
    hardware: dict[str, Any]
    conda: CondaSpec | None = None
    notes: list[str] = field(default_factory=list)  # what the user should know; not hashed

    def canonical(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": INPUTS_FORMAT,
            "requirements": sorted(r.requirement for r in self.requirements),
            "python": self.python, "platforms": sorted(self.platforms),
            "hardware": self.hardware,
        }
        if self.conda is not None:
            data["conda"] = {"channels": list(self.conda.channels),
                             "dependencies": sorted(self.conda.dependencies),
                             "pip": sorted(self.conda.pip)}
        return data

    def digest(self) -> str:
        canonical = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def direct_requirements(scan: Scan, root: Path,
                        replaced: frozenset[str] = frozenset()) -> list[DirectRequirement]:
    """The PyPI requirements to lock, sorted by name, with their evidence. ``replaced``: user
    files this run overwrites with generated ones, whose declarations are outputs, not inputs."""
    generated = _GeneratedFiles(root, replaced)
    installed = {i.distribution for i in scan.imports if i.mapping_source == "installed"}
    result = []
    for dep in sorted(scan.dependencies, key=lambda d: d.name):
        # optional: only in try/except ImportError, or only in an extra / dev group; an
        # optional import the author has installed is part of the environment they run
        if dep.optional and not (dep.imports and dep.name in installed):
            continue
        decls = [d for d in scan.declared if d.name == dep.name and d.ecosystem == "pypi"
                 and d.group in RUNTIME_GROUPS]
        own = [d for d in decls if not generated.owns(d)]
        if not own and not dep.imports:
            continue
        if not own and any(d.ecosystem == "conda" and d.name == dep.name
                           and not generated.owns(d) for d in scan.declared):
            continue  # a conda package of the user's environment.yml provides it
        lent = [d for d in decls if not generated.owns_path(d.evidence.path)]  # marker section
        specs = _without_bare_names(_unique([d.requirement for d in (own or lent)])) or [dep.name]
        evidence = [str(e) for e in dep.evidence if not generated.owns_evidence(e)]
        for spec in specs:
            result.append(DirectRequirement(spec, dep.name, tuple(_unique(evidence))))
    return result


def choose_python(flag: str | None, scan: Scan, recorded: str | None = None) -> str:
    """--python, else the project's exact version, else a recorded one, else the running one
    (or the lowest the project's specifier allows when the running one does not satisfy it)."""
    if flag:
        return target_python(flag)
    declared = (scan.python.version or "").strip()
    if declared and declared.replace(".", "").isdigit():
        return target_python(".".join(declared.split(".")[:2]))
    if recorded:
        return recorded
    running = target_python(None)
    if declared:
        try:
            spec = SpecifierSet(declared)
        except InvalidSpecifier:
            return running
        if not spec.contains(running + ".0") and not spec.contains(running):
            lowest = [s.version for s in spec if s.operator in (">=", "==", "~=")]
            if lowest:
                return ".".join(lowest[0].split(".")[:2])
    return running


def choose_platforms(flags: tuple[str, ...], recorded: list[str] | None = None) -> list[str]:
    return normalise_platforms(flags or tuple(recorded or ()))


def hardware_needs(scan: Scan) -> dict[str, Any]:
    data = asdict(scan.hardware)
    data.pop("evidence", None)
    data["accelerators"] = sorted(data.get("accelerators") or [])
    return data


def _without_bare_names(specs: list[str]) -> list[str]:
    """``numpy`` adds nothing next to ``numpy>=1.24``: keep bare names only when alone."""
    constrained = [s for s in specs if not _NAME_ONLY.match(s)]
    return constrained or specs[:1]


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


class _GeneratedFiles:
    """Which declarations come from files (or sections) samepack wrote."""

    def __init__(self, root: Path, replaced: frozenset[str] = frozenset()) -> None:
        self.root = root
        self._cache: dict[str, bool] = {path: True for path in replaced}
        self._marker_line: dict[str, int | None] = {}

    def owns_path(self, path: str) -> bool:
        """Lock files samepack wrote; a ``.in`` file is judged by section, not by header."""
        if path.endswith(".in"):
            return False
        if path not in self._cache:
            self._cache[path] = is_generated(self.root / path)
        return self._cache[path]

    def owns_evidence(self, evidence: Evidence) -> bool:
        if self.owns_path(evidence.path):
            return True
        marker = self._marker(evidence.path)
        return marker is not None and (evidence.line or 0) > marker

    def owns(self, declared: DeclaredRequirement) -> bool:
        return self.owns_evidence(declared.evidence)

    def _marker(self, path: str) -> int | None:
        if path not in self._marker_line:
            self._marker_line[path] = None
            if path.endswith(".in"):
                try:
                    lines = (self.root / path).read_text(encoding="utf-8").splitlines()
                except (OSError, UnicodeDecodeError):
                    lines = []
                for number, line in enumerate(lines, start=1):
                    if line.strip() == ADDED_MARKER:
                        self._marker_line[path] = number
        return self._marker_line[path]
