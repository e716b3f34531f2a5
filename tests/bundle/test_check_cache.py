"""Checks remembered by digest (samepack.cache): an unchanged file is not searched for secrets
again and unchanged manifests are not validated again, yet the bundle is the same, a change is
always checked, and the path-dependent rule still runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from samepack.bundle.write import batch
from samepack.bundle.parts import secrets
from samepack.bundle.write.export import ExportOptions, export_bundle
from samepack.bundle.parts.infra import _validate_once
from samepack.cache import RECORD, DigestSet
from samepack.errors import VerificationError

from .conftest import one_step_program, register

PROGRAM = one_step_program("cached")
# A service-account key without a PEM block: only the rule for .json files finds it.
SERVICE_ACCOUNT = json.dumps({"type": "service_account", "private_key": "abc"}).encode()


def _project(root: Path, files: int = 600) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "samepack.yaml").write_text(PROGRAM)
    (root / "main.py").write_text("print('hi')\n")
    for index in range(files):  # enough for the worker processes
        (root / "src" / f"m{index:04d}.py").write_text(f"VALUE = {index}\n")
    (root / "src" / "account.py").write_bytes(SERVICE_ACCOUNT)
    return root


def _screened(home: Path) -> DigestSet:
    return DigestSet.load(f"screened-{secrets.rules_digest()}")


def test_second_export_skips_the_search_and_gives_the_same_bytes(
        tmp_path: Path, samepack_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = register(_project(tmp_path / "p"))
    first = export_bundle(entry, tmp_path / "first.tgz", ExportOptions(runs="none"))
    known = _screened(samepack_home)
    assert len(known) == len(first.manifest.part("code").members)
    searched: list[str] = []
    original = secrets._triggered
    monkeypatch.setattr(secrets, "_triggered",
                        lambda content: searched.append(content) or original(content))
    monkeypatch.setattr(batch, "PARALLEL_FROM", 10**9)  # in this process, where it is counted
    monkeypatch.setattr("samepack.bundle.write.writer.PARALLEL_FROM", 10**9)
    (tmp_path / "p" / "src" / "m0000.py").write_text("TOKEN = 'AKIAIOSFODNN7EXAMPLE'\n")
    second = export_bundle(entry, tmp_path / "second.tgz", ExportOptions(runs="none"))
    # the changed file is searched, no unchanged code file is (the program, env and infra
    # files, a few small ones, are searched on every export)
    assert b"TOKEN = 'AKIAIOSFODNN7EXAMPLE'\n" in searched
    assert not [content for content in searched if content.startswith(b"VALUE = ")]
    assert ("src/m0000.py", "AWS access key id") in second.skipped
    (tmp_path / "p" / "src" / "m0000.py").write_text("VALUE = 0\n")
    export_bundle(entry, tmp_path / "third.tgz", ExportOptions(runs="none"))
    assert (tmp_path / "first.tgz").read_bytes() == (tmp_path / "third.tgz").read_bytes()


def test_bytes_that_passed_as_source_are_still_caught_as_a_json_key(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", files=3)
    entry = register(project)
    export_bundle(entry, tmp_path / "a.tgz", ExportOptions(runs="none"))
    (project / "src" / "account.py").rename(project / "src" / "account.json")
    result = export_bundle(entry, tmp_path / "b.tgz", ExportOptions(runs="none"))
    assert ("src/account.json", "GCP service-account key") in result.skipped


def test_cache_off_writes_nothing(tmp_path: Path, samepack_home: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMEPACK_CACHE", "off")
    entry = register(_project(tmp_path / "p", files=3))
    export_bundle(entry, tmp_path / "a.tgz", ExportOptions(runs="none"))
    assert not (samepack_home / "cache").exists()


def test_torn_or_foreign_cache_files_only_miss(tmp_path: Path, samepack_home: Path) -> None:
    name = f"screened-{secrets.rules_digest()}"
    (samepack_home / "cache").mkdir()
    (samepack_home / "cache" / name).write_bytes(b"\x01" * (RECORD * 3 + 7))
    entry = register(_project(tmp_path / "p", files=3))
    result = export_bundle(entry, tmp_path / "a.tgz", ExportOptions(runs="none"))
    passed = len(result.manifest.part("code").members)
    known = DigestSet.load(name)
    assert b"\x01" * RECORD in known  # the whole records read before
    assert len(known) == 1 + passed  # and the members that passed
    assert (samepack_home / "cache" / name).stat().st_size == (1 + passed) * RECORD  # no torn tail


def test_manifests_are_validated_again_when_they_change(tmp_path: Path) -> None:
    good = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ok"}}
    _validate_once([good], "1.30", "validator-a")
    assert len(DigestSet.load("k8s-validated")) == 1
    bad = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ok"}, "spek": {}}
    with pytest.raises(VerificationError, match="spek"):
        _validate_once([bad], "1.30", "validator-a")
    assert len(DigestSet.load("k8s-validated")) == 1  # a failure is not remembered


def test_unchanged_manifests_skip_the_validator_import(tmp_path: Path) -> None:
    """kubernetes-validate alone takes longer to import than a small export's own work."""
    project = _project(tmp_path / "p", files=3)
    register(project)
    script = ("import sys; from samepack.cli import main; sys.argv = ['samepack', 'export', "
              f"'program', '-n', 'cached', '-o', {str(tmp_path / 'x.tgz')!r}, '--force'];\n"
              "try: main()\nexcept SystemExit: pass\n"
              "print('kubernetes_validate' in sys.modules)")
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=True).stdout.split()[-1] for _ in range(2)]
    assert runs == ["True", "False"]
