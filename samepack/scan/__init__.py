"""Scanning a project: what it imports, declares and needs (Python, system libraries, hardware).

Public API: :func:`scan_project` returns a :class:`~samepack.scan.model.Scan`.

Both load on first use (``from samepack.scan import scan_project`` works as ever), so that a
module needing only a small part of the package (``samepack.scan.names``) loads no scanner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from samepack.scan.model import Scan
    from samepack.scan.project import scan_project

__all__ = ["Scan", "scan_project"]


def __getattr__(name: str) -> Any:
    if name == "Scan":
        from samepack.scan.model import Scan

        return Scan
    if name == "scan_project":
        from samepack.scan.project import scan_project

        return scan_project
    raise AttributeError(f"module 'samepack.scan' has no attribute {name!r}")
