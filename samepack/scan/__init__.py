"""Scanning a project: what it imports, declares and needs (Python, system libraries, hardware).

Public API: :func:`scan_project` returns a :class:`~samepack.scan.model.Scan`.
"""

from samepack.scan.model import Scan
from samepack.scan.project import scan_project

__all__ = ["Scan", "scan_project"]
