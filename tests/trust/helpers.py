"""Helpers of the trust tests (importable as ``trust.helpers``; conftest is not)."""

from __future__ import annotations

import subprocess
from pathlib import Path

LOCKS = Path(__file__).with_name("fixtures") / "locks"
IMAGE = "registry.example.org/wine@sha256:" + "ab" * 32


def git(project: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_DATE": "2024-01-02T03:04:05Z", "GIT_COMMITTER_DATE": "2024-01-02T03:04:05Z",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
           "PATH": "/usr/bin:/bin", "HOME": str(project)}
    return subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True,
                          text=True, env=env).stdout.strip()
