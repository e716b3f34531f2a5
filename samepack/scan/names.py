"""Distribution names without importing ``packaging``: ``packaging.utils`` pulls in its wheel-tag
machinery (subprocess, sysconfig, logging), a large share of a small scan's start-up."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[-_.]+")


def canonical_name(name: str) -> str:
    """PEP 503 normalised name, exactly ``packaging.utils.canonicalize_name``."""
    return _SEPARATORS.sub("-", name).lower()
