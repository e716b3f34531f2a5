"""A registered program goes through a registry to another store: push NAME:VERSION exports it,
pull --import registers it, and `samepack inspect oci://` shows it without pulling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_program_push_pull_import(samepack, registry, fixture_project, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    project = fixture_project("wine-quality")
    created = samepack("create", "program", "-f", project / "samepack.yaml")
    assert created.exit_code == 0, created.stderr
    target = f"oci://{registry.host}/programs/wine"
    pushed = samepack("push", "wine-quality:1.0", target)
    assert pushed.exit_code == 0, pushed.stderr
    digest = pushed.stdout.strip()

    exported = tmp_path / "exported.tgz"
    assert samepack("export", "program", "-n", "wine-quality:1.0", "-o", exported).exit_code == 0

    shown = samepack("inspect", f"{target}:1.0", "--json")
    assert shown.exit_code == 0, shown.stderr
    described = json.loads(shown.stdout)
    assert described["digest"] == digest
    assert described["program"] == {"name": "wine-quality", "version": "1.0"}

    elsewhere = tmp_path / "other-home"
    monkeypatch.setenv("SAMEPACK_HOME", str(elsewhere))
    monkeypatch.chdir(tmp_path)
    pulled = samepack("pull", f"{target}@{digest}", "-o", "pulled.tgz", "--import")
    assert pulled.exit_code == 0, pulled.stderr
    assert "imported wine-quality:1.0" in pulled.stderr
    assert (tmp_path / "pulled.tgz").read_bytes() == exported.read_bytes()
    listed = samepack("programs")
    assert "wine-quality" in listed.stdout
