"""Bundle format 2: the program's file and what is rendered from it (Kubernetes manifests,
provenance, SBOM) travel in the program part alone, so a version that changes only the program
leaves every other part byte-identical; bundles of format 1 are still read."""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from samepack.bundle.format.layout import read_manifest, segments
from samepack.bundle.format.manifest import FORMAT_VERSION, Manifest, belongs_to
from samepack.bundle.read.safety import Limits, check_manifest
from samepack.errors import VerificationError

FORMAT1 = Path(__file__).parent / "fixtures" / "format1-wine-quality-1.0.tgz"


def _new_version(project: Path, version: str, alpha: str, cron: str) -> None:
    text = (project / "samepack.yaml").read_text()
    text = text.replace('version: "1.0"', f'version: "{version}"')
    text = text.replace("default: 0.5\n    help: regularisation", f"default: {alpha}\n    help: "
                        "regularisation")
    text = text.replace('cron: "0 3 * * *"', f'cron: "{cron}"')
    (project / "samepack.yaml").write_text(text)


def _digests(bundle: Path) -> dict[str, str]:
    return {segment.part: segment.sha256 for segment in segments(bundle)}


def test_program_only_change_leaves_other_parts_identical(fixture_project, samepack,
                                                          tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    project = fixture_project("wine-quality")
    shutil.rmtree(project / "mlruns")
    bundles = []
    for version, alpha, cron in (("1.0", "0.5", "0 3 * * *"), ("1.1", "0.7", "15 4 * * 1")):
        if version != "1.0":
            _new_version(project, version, alpha, cron)
        assert samepack("create", "program", "-f", project / "samepack.yaml").exit_code == 0
        bundles.append(tmp_path / f"wine-{version}.tgz")
        done = samepack("export", "program", "-n", f"wine-quality:{version}", "-o", bundles[-1],
                        "--runs", "none")
        assert done.exit_code == 0, done.stderr
    first, second = (_digests(b) for b in bundles)
    assert list(first) == ["program", "env", "code", "data"]
    assert first["program"] != second["program"]
    assert {k: v for k, v in first.items() if k != "program"} == \
           {k: v for k, v in second.items() if k != "program"}
    _, manifest = read_manifest(bundles[1])
    assert manifest.format == FORMAT_VERSION == 3
    program = [m.path for m in manifest.part("program").members]
    assert program == ["code/samepack.yaml", "infra/manifests.yaml",
                       "metadata/provenance.intoto.json", "metadata/sbom.cdx.json",
                       "program/samepack.yaml"]
    assert "code/samepack.yaml" not in {m.path for m in manifest.part("code").members}
    # imported, the program's file is back where it was in the project, as its author wrote it
    assert samepack("import", bundles[1], "--force").exit_code == 0
    from samepack.store import Store

    restored = Path(Store().get("wine-quality:1.1").path) / "code" / "samepack.yaml"
    assert restored.read_bytes() == (project / "samepack.yaml").read_bytes()
    again = tmp_path / "again.tgz"
    assert samepack("export", "program", "-n", "wine-quality:1.1", "-o", again,
                    "--runs", "none").exit_code == 0
    assert again.read_bytes() == bundles[1].read_bytes()
    with tarfile.open(bundles[1]) as archive:  # still one plain .tgz
        rendered = archive.extractfile("infra/manifests.yaml").read().decode()
    assert "15 4 * * 1" in rendered


def test_format1_bundle_is_read_imported_and_exported_again(samepack, tmp_path: Path) -> None:
    raw, manifest = read_manifest(FORMAT1)
    assert manifest.format == 1 and json.loads(raw)["format"] == 1
    assert [p.name for p in manifest.parts] == ["program", "env", "code", "infra", "metadata",
                                                "data"]
    assert samepack("verify", FORMAT1).exit_code == 0
    imported = samepack("import", FORMAT1)
    assert imported.exit_code == 0, imported.stderr
    from samepack.store import Store

    entry = Store().get("wine-quality:1.0")
    root = Path(entry.path)
    for path in ("infra/manifests.yaml", "metadata/provenance.intoto.json",
                 "metadata/sbom.cdx.json", "code/samepack.yaml", "program/samepack.yaml"):
        assert (root / path).is_file(), path
    again = tmp_path / "again.tgz"
    assert samepack("export", "program", "-n", "wine-quality:1.0", "-o", again).exit_code == 0
    _, exported = read_manifest(again)
    assert exported.format == 3 and [p.name for p in exported.parts] == [
        "program", "env", "code", "data"]
    with tarfile.open(FORMAT1) as old, tarfile.open(again) as new:
        for path in ("infra/manifests.yaml", "metadata/provenance.intoto.json"):
            assert old.extractfile(path).read() == new.extractfile(path).read()


def test_format1_attestations_are_found_in_its_metadata_part() -> None:
    from samepack.trust.members import attestation_members

    found = attestation_members(FORMAT1)
    assert sorted(found) == ["metadata/provenance.intoto.json", "metadata/sbom.cdx.json"]
    statement = json.loads(found["metadata/provenance.intoto.json"])
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    with tarfile.open(FORMAT1) as archive:
        program = archive.extractfile("program/samepack.yaml").read()
    assert subjects["program/samepack.yaml"] == hashlib.sha256(program).hexdigest()


def _manifest_with(format_version: int, parts: dict[str, list[str]]) -> Manifest:
    data = {"format": format_version, "kind": "samepack-bundle", "created": 0,
            "compression": "gzip", "program": {"name": "x", "version": "1"},
            "tool": {"name": "samepack", "version": "0"},
            "parts": [{"name": name, "compression": "gzip", "size": 1, "sha256": "0" * 64,
                       "media_type": "", "members": [{"path": p, "size": 1, "mode": "0644",
                                                      "sha256": "0" * 64} for p in paths]}
                      for name, paths in parts.items()]}
    return Manifest.from_bytes(json.dumps(data).encode())


def test_format2_places_rendered_files_in_the_program_part_only() -> None:
    assert belongs_to("infra/manifests.yaml", "program", 2)
    assert not belongs_to("infra/manifests.yaml", "program", 1)
    assert not belongs_to("metadata/sbom.cdx.json", "metadata", 2)
    assert belongs_to("metadata/sbom.cdx.json", "metadata", 1)
    assert belongs_to("metadata/runs.jsonl", "metadata", 2)
    assert belongs_to("code/samepack.yaml", "program", 2)  # the program's own file
    assert not belongs_to("code/samepack.yaml", "program", 1)
    assert not belongs_to("env/requirements.txt", "program", 2)
    with pytest.raises(VerificationError, match="not in the order"):
        _manifest_with(2, {"program": ["program/samepack.yaml"], "infra": ["infra/a.yaml"]})
    check_manifest(_manifest_with(1, {"program": ["program/samepack.yaml"],
                                      "infra": ["infra/a.yaml"]}), Limits())
    moved = _manifest_with(2, {"program": ["program/samepack.yaml"],
                               "metadata": ["metadata/provenance.intoto.json"]})
    with pytest.raises(VerificationError, match="metadata/provenance.intoto.json"):
        check_manifest(moved, Limits())
    twice = _manifest_with(2, {"program": ["code/a.py", "program/samepack.yaml"],
                               "code": ["code/a.py"]})
    with pytest.raises(VerificationError, match="duplicate name"):
        check_manifest(twice, Limits())
    with pytest.raises(VerificationError, match="unknown bundle format version 4"):
        _manifest_with(4, {})
