"""Fixtures for bundle tests: small registered projects, crafted archives, store checks."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from samepack.bundle.format.manifest import Manifest, Member, Part


def register(project: Path):
    """Register ``project/samepack.yaml`` in the current store; the Entry."""
    from samepack.program import load_program
    from samepack.store import Store

    program = load_program(project / "samepack.yaml")
    return Store().register(program, project, str(project / "samepack.yaml"))


def one_step_program(name: str) -> str:
    """A program of one step, ``python main.py``."""
    return (f"apiVersion: samepack.dev/v1\nkind: Program\nmetadata: {{name: {name}, version: '1'}}\n"
            "steps:\n  main: {run: \"python main.py\"}\n")


MINI_PROGRAM = """\
apiVersion: samepack.dev/v1
kind: Program
metadata: {name: mini, version: "0.1"}
secrets: [{name: storage-key, env: STORAGE_KEY}]
datasets:
  table: {path: data/table.csv}
steps:
  main: {run: "python main.py"}
"""


@pytest.fixture
def mini_project(tmp_path: Path) -> Path:
    """A tiny project in its own git repository, committed at a fixed time."""
    project = tmp_path / "mini"
    (project / "data").mkdir(parents=True)
    (project / "samepack.yaml").write_text(MINI_PROGRAM)
    (project / "main.py").write_text("print('hello')\n")
    (project / "run.sh").write_text("#!/bin/sh\necho run\n")
    (project / "run.sh").chmod(0o755)
    (project / "requirements.txt").write_text("numpy==1.26.4\n")
    (project / "data" / "table.csv").write_text("a,b\n1,2\n")
    git(project, "init", "-q")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "initial")
    return project


def git(project: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_DATE": "2024-01-02T03:04:05Z", "GIT_COMMITTER_DATE": "2024-01-02T03:04:05Z",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
           "PATH": "/usr/bin:/bin", "HOME": str(project)}
    return subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True,
                          text=True, env=env).stdout


def entries(bundle: Path) -> dict[str, bytes]:
    """Every member of a gzip bundle, read with Python's tarfile."""
    with tarfile.open(bundle) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive if m.isfile()}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_for(files: list[tuple[str, bytes, int]], version: int = 1) -> bytes:
    """A manifest listing ``(path, content, mode)`` in one code part (segment digests are
    placeholders: crafted archives fail on members before segments are compared)."""
    members = [Member(path, len(data), mode & 0o777 if mode & 0o777 in (0o644, 0o755) else 0o644,
                      sha(data)) for path, data, mode in files]
    manifest = Manifest("evil", "1.0", 0, "gzip", "0.1.0",
                        [Part("code", "gzip", 1, "0" * 64, members)])
    data = manifest.to_dict()
    data["format"] = version
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def add(archive: tarfile.TarFile, name: str, data: bytes = b"x", mode: int = 0o644,
        kind: bytes = tarfile.REGTYPE, linkname: str = "", size: int | None = None) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname = kind, mode, linkname
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    if size is not None:
        info.size = size
        archive.addfile(info, io.BytesIO(data.ljust(size, b"\0")) if size < 1 << 20 else None)
        return
    archive.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
