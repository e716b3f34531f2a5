"""System libraries: ``apt.txt`` (repo2docker's convention) and imports known to need Debian
packages beyond their wheels (``samepack/data/system_libraries.json``)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from samepack.scan.context import ScanContext
from samepack.scan.model import Evidence, ImportFinding, SystemLibrary

DATA = Path(__file__).resolve().parents[2] / "data" / "system_libraries.json"


@lru_cache(maxsize=1)
def _table() -> dict[str, list[str]]:
    return json.loads(DATA.read_text(encoding="utf-8"))["imports"]


def from_apt_txt(ctx: ScanContext) -> list[SystemLibrary]:
    text = ctx.read_text("apt.txt") or ""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        name = line.split("#", 1)[0].strip()
        if name:
            found.append(SystemLibrary(name, "listed in apt.txt", [Evidence("apt.txt", number)]))
    return found


def from_imports(imports: list[ImportFinding]) -> list[SystemLibrary]:
    found = []
    for finding in imports:
        top = finding.module.split(".", 1)[0]
        for package in _table().get(top, []):
            found.append(SystemLibrary(package, f"needed by {top} ({finding.distribution})",
                                       list(finding.evidence)))
    return found


def system_libraries(ctx: ScanContext, imports: list[ImportFinding]) -> list[SystemLibrary]:
    """One entry per Debian package, sorted; reasons and evidence merged."""
    merged: dict[str, SystemLibrary] = {}
    for library in from_apt_txt(ctx) + from_imports(imports):
        if library.name in merged:
            known = merged[library.name]
            if library.reason not in known.reason.split("; "):
                known.reason += f"; {library.reason}"
            known.evidence = sorted(set(known.evidence) | set(library.evidence))
        else:
            merged[library.name] = SystemLibrary(library.name, library.reason, sorted(set(library.evidence)))
    return [merged[name] for name in sorted(merged)]
