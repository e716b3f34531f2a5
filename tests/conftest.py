"""Shared test fixtures: an isolated store per test, the CLI in-process and as a subprocess,
copies of the fixture projects, and `require_tool` (skip locally, fail under CI=true)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from support import FIXTURES, IN_CI, REPO_ROOT, require_module, require_tool  # noqa: F401


@pytest.fixture(autouse=True)
def samepack_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty store."""
    home = tmp_path_factory.mktemp("samepack-home")
    monkeypatch.setenv("SAMEPACK_HOME", str(home))
    monkeypatch.delenv("SAMEPACK_DEBUG", raising=False)
    return home


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def samepack():
    """Run the CLI in-process: ``samepack("scan", path)`` -> CliResult."""
    from samepack.cli import cli

    def run(*args: str | os.PathLike, input: str | None = None, env: dict | None = None) -> CliResult:
        from samepack import console

        for lazy in (console.out, console.err):  # made anew, as each process does (COLUMNS)
            lazy._console = None
        runner = CliRunner()
        result = runner.invoke(cli, [str(a) for a in args], input=input, env=env,
                               catch_exceptions=False, prog_name="samepack")
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def samepack_proc():
    """Run the CLI as a real subprocess (``python -m samepack``) -> CompletedProcess."""

    def run(*args: str | os.PathLike, cwd: Path | None = None, env: dict | None = None,
            timeout: float = 600, check: bool = False) -> subprocess.CompletedProcess:
        full_env = {**os.environ, **(env or {})}
        return subprocess.run([sys.executable, "-m", "samepack", *map(str, args)], cwd=cwd,
                              env=full_env, capture_output=True, text=True, timeout=timeout,
                              check=check)

    return run


@pytest.fixture
def fixture_project(tmp_path: Path):
    """Copy ``fixtures/NAME`` into a temporary directory and return its path."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target, symlinks=True)
        return target

    return copy
