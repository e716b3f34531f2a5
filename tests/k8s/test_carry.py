"""Local data sets carried to the cluster: the ConfigMap that carries the file, and the init
container's script (run here for real) that copies it into the claim and checks its sha256."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys

import pytest

from samepack.errors import VerificationError
from samepack.k8s.exchange.carry import CARRY_LIMIT, carried_datasets
from samepack.k8s.objects.pod import FETCH_SCRIPT
from samepack.program import load_program
from support import FIXTURES

WINE = FIXTURES / "wine-quality"


def test_the_wine_data_set_is_carried_byte_for_byte():
    program = load_program(WINE / "samepack.yaml")
    plan = carried_datasets(program, WINE, "ml")
    assert plan.problems == []
    [config] = plan.objects
    assert config["metadata"]["name"] == "wine-quality-carry-wine"
    data = base64.b64decode(config["binaryData"]["winequality-red.csv"])
    assert data == (WINE / "data" / "winequality-red.csv").read_bytes()
    assert hashlib.sha256(data).hexdigest() == program.datasets["wine"].sha256


def test_a_changed_file_is_refused_and_a_large_one_is_explained(tmp_path):
    import shutil

    project = tmp_path / "wine"
    shutil.copytree(WINE, project)
    program = load_program(project / "samepack.yaml")
    (project / "data" / "winequality-red.csv").write_text("quality\n5\n")
    with pytest.raises(VerificationError, match="data set wine: sha256 of .* does not match"):
        carried_datasets(program, project, "ml")
    (project / "data" / "winequality-red.csv").write_bytes(b"x" * (CARRY_LIMIT + 1))
    program.datasets["wine"].sha256 = None
    plan = carried_datasets(program, project, "ml")
    assert plan.objects == [] and "more than the 786432 a ConfigMap can carry" in plan.problems[0]


def _fetch(source: str, target, sha: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", FETCH_SCRIPT, source, str(target), sha],
                          capture_output=True, text=True, timeout=60)


def test_the_init_containers_script_copies_and_checks_the_carried_file(tmp_path):
    source = WINE / "data" / "winequality-red.csv"
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    target = tmp_path / "claim" / "winequality-red.csv"
    target.parent.mkdir()
    done = _fetch(f"file://{source}", target, sha)
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == source.read_bytes()
    target.write_text("tampered\n")  # a damaged copy on the claim is fetched again
    again = _fetch(f"file://{source}", target, sha)
    assert again.returncode == 0 and "fetching it again" in again.stderr
    assert target.read_bytes() == source.read_bytes()
    other = tmp_path / "claim" / "other.csv"
    bad = _fetch(f"file://{source}", other, "0" * 64)  # a source that is not what was declared
    assert bad.returncode == 1 and "does not match the program's" in bad.stderr
    assert list(other.parent.iterdir()) == [target]  # nothing half-written left behind
    missing = _fetch(f"file://{tmp_path}/nothing.csv", tmp_path / "claim" / "other.csv", sha)
    assert missing.returncode == 1 and "was not carried here" in missing.stderr


def bigger_wine(project) -> str:
    """The wine project with its data set grown past what a ConfigMap carries (the real rows,
    repeated); its program updated to the new sha256 and size. The new sha256."""
    csv = project / "data" / "winequality-red.csv"
    header, *rows = csv.read_text().splitlines(keepends=True)
    csv.write_text(header + "".join(rows * 50))
    data = csv.read_bytes()
    assert len(data) > CARRY_LIMIT
    sha = hashlib.sha256(data).hexdigest()
    program = project / "samepack.yaml"
    text = program.read_text().replace(
        "072c45f862f214b766c660691a2df71ed6633047e5e2a7fa80aa253cecf3009e", sha)
    program.write_text(text.replace("size: 16618", f"size: {len(data)}"))
    return sha


def test_a_data_set_over_the_limit_goes_through_the_registry_and_is_pulled_and_checked(
        registry, fixture_project, tmp_path):
    from samepack.k8s import render_manifests
    from samepack.k8s.exchange.carry import fetch_from_registry
    from samepack.k8s.exchange.transfer import open_registry

    project = fixture_project("wine-quality")
    sha = bigger_wine(project)
    program = load_program(project / "samepack.yaml")
    without = carried_datasets(program, project, "ml")
    assert without.objects == [] and "give --registry oci://HOST/REPO" in without.problems[0]

    exchange = open_registry(f"oci://{registry.host}/data/wine")
    try:
        plan = carried_datasets(program, project, "ml", exchange)
    finally:
        exchange.close()
    assert plan.objects == [] and plan.problems == []
    url, digest = plan.pulled["wine"]
    assert digest == sha and url == f"http://{registry.host}/v2/data/wine/blobs/sha256:{sha}"
    objects = fetch_from_registry(render_manifests(program, image="img:1"), plan.pulled)
    [job] = [o for o in objects if o["kind"] == "Job"]
    fetch = next(c for c in job["spec"]["template"]["spec"]["initContainers"]
                 if c["name"] == "fetch-wine")
    assert fetch["command"][:3] == ["python3", "-c", FETCH_SCRIPT]
    assert fetch["command"][3:] == [url, "/datasets/wine/winequality-red.csv", sha]

    # the init container's own command, run here against the real registry
    target = tmp_path / "claim" / "winequality-red.csv"
    target.parent.mkdir()
    pulled = _fetch(url, target, sha)
    assert pulled.returncode == 0, pulled.stderr
    assert target.read_bytes() == (project / "data" / "winequality-red.csv").read_bytes()
    wrong = _fetch(url, tmp_path / "claim" / "wrong.csv", "0" * 64)
    assert wrong.returncode == 1 and "does not match the program's" in wrong.stderr
    missing = _fetch(url.replace(sha, "1" * 64), tmp_path / "claim" / "missing.csv", "1" * 64)
    assert missing.returncode == 1 and "cannot fetch" in missing.stderr and "404" in missing.stderr
    assert sorted(p.name for p in target.parent.iterdir()) == ["winequality-red.csv"]
