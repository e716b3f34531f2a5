"""``import --env``: recreate an imported program's environment from its bundled lock, through
the environment creator (``samepack.envcreate``)."""

from __future__ import annotations

from pathlib import Path

from samepack.errors import ToolMissingError


def create_env(entry) -> object:
    """Create the environment of ``entry`` from ``<entry>/env`` (its lock files)."""
    try:
        from samepack.envcreate import create_environment
    except ImportError:
        raise ToolMissingError("this samepack cannot create environments yet (samepack.envcreate "
                               "is missing)", hint="import without --env, then create the "
                                                  "environment from env/ by hand") from None
    return create_environment(Path(entry.path) / "env")
