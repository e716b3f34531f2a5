"""Pure renderings of a Scan for programs: JSON (docs/scan-json.md) and a requirements list
(one per line, like pipreqs). The table for people is in ``report.table`` (it needs rich,
which these outputs do not pay for)."""

from __future__ import annotations

import json

from samepack.scan.model import Evidence, Scan

MAX_EVIDENCE = 3


def scan_json(scan: Scan) -> str:
    """The stable JSON document: sorted keys, two-space indent, trailing newline."""
    return json.dumps(scan.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def requirement_lines(scan: Scan, used_only: bool = False) -> list[str]:
    """One requirement per line: every non-optional dependency (only imported ones with ``used_only``)."""
    return scan.requirements(include_unused=not used_only)


def evidence_text(evidence: list[Evidence], limit: int = MAX_EVIDENCE) -> str:
    shown = ", ".join(str(e) for e in evidence[:limit])
    more = len(evidence) - limit
    return shown + (f" (+{more} more)" if more > 0 else "")
