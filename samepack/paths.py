"""Where samepack keeps things: the local store and the shipped templates."""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def samepack_home() -> Path:
    """The local store: ``$SAMEPACK_HOME``, else the per-user data directory."""
    configured = os.environ.get("SAMEPACK_HOME")
    if configured:
        return Path(configured).expanduser().resolve()
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return (base / "samepack").resolve()


def templates_dir() -> Path:
    """The Jinja templates: ``templates/`` in a checkout, ``samepack/_templates`` in a wheel."""
    shipped = PACKAGE_DIR / "_templates"
    if shipped.is_dir():
        return shipped
    return PACKAGE_DIR.parent / "templates"
