"""Recreate a locked environment on this machine (uv venv + ``uv pip sync --require-hashes``,
or a conda prefix installed by py-rattler), after checking the machine meets the needs.

The names below are imported on first use: a run whose cached environment exists needs only
:mod:`samepack.envcreate.lockcheck`, not the builder.
"""

from __future__ import annotations

from typing import Any

_FROM = {"CreateOptions": "create", "create_environment": "create",
         "environment_python": "create", "machine_shortfalls": "create",
         "program_needs": "create", "verify_lock_files": "lockcheck",
         "Needs": "hardware", "Shortfall": "hardware", "check_hardware": "hardware",
         "needs_from_program": "hardware", "needs_from_record": "hardware"}

__all__ = sorted(_FROM)


def __getattr__(name: str) -> Any:
    if name in _FROM:
        import importlib

        return getattr(importlib.import_module(f"samepack.envcreate.{_FROM[name]}"), name)
    raise AttributeError(f"module 'samepack.envcreate' has no attribute {name!r}")
