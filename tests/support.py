"""Helpers shared by tests in every folder. Import them as ``from support import ...``
(``conftest`` is not importable by name: each folder may have its own)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_tool(name: str, why: str = "") -> str:
    """Path of an external tool; skip the test when it is missing, but fail under CI=true,
    where a missing tool means `.ci/run` forgot to install it."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed{': ' + why if why else ''}"
    if IN_CI:
        pytest.fail(message + " (CI must install it: see scripts/setup.sh)")
    pytest.skip(message)


def require_module(name: str) -> None:
    """Like require_tool, for an importable Python module."""
    try:
        __import__(name)
    except ImportError:
        if IN_CI:
            pytest.fail(f"Python module {name} is not installed (CI must install it)")
        pytest.skip(f"Python module {name} is not installed")
