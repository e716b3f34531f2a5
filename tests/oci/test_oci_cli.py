"""The push / pull commands and `inspect oci://` as a user sees them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from samepack.oci import inspect_remote


def test_push_prints_the_digest_and_pull_writes_the_bundle(samepack, registry, bundle_factory,
                                                           tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = bundle_factory()
    target = f"oci://{registry.host}/cli/demo"
    pushed = samepack("push", bundle, target)
    assert pushed.exit_code == 0, pushed.stderr
    digest = pushed.stdout.strip()
    assert digest.startswith("sha256:") and len(digest) == 71
    assert f"pushed {target}:1.0: sent 3.0 MB" in pushed.stderr
    assert f"pin it as {target}@{digest}" in pushed.stderr

    again = samepack("push", bundle, target, "--json")
    summary = json.loads(again.stdout)
    assert summary["digest"] == digest and summary["sent"] == 0
    assert summary["skipped"] > 3_000_000 and summary["mounted"] == 0
    assert set(summary["blobs"].values()) == {"present"}

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    pulled = samepack("pull", f"{target}:1.0")
    assert pulled.exit_code == 0, pulled.stderr
    assert pulled.stdout.strip() == "demo-1.0.tgz"
    assert (work / "demo-1.0.tgz").read_bytes() == bundle.read_bytes()
    refused = samepack("pull", f"{target}@{digest}")
    assert refused.exit_code == 5 and "demo-1.0.tgz exists" in refused.stderr
    assert samepack("pull", f"{target}@{digest}", "--force").exit_code == 0


@pytest.mark.parametrize("args, needle", [
    (("push", "missing.tgz", "oci://127.0.0.1:1/x"), "missing.tgz: no such bundle file"),
    (("push", "missing.tgz", "docker://127.0.0.1:1/x"), "must start with oci://"),
    (("pull", "oci://127.0.0.1:1/Bad"), "bad repository 'Bad'"),
    (("pull", "oci://127.0.0.1:1/x"), "no tag or digest"),
])
def test_bad_input_is_one_line(samepack, args, needle: str) -> None:
    result = samepack(*args)
    assert result.exit_code == 3
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: ") and needle in first
    assert "Traceback" not in result.stderr


def test_inspect_remote_shows_layers_without_downloading(registry, bundle_factory,
                                                         capsys: pytest.CaptureFixture) -> None:
    from samepack.oci.push import push_bundle
    from samepack.oci.reference import parse_reference

    pushed = push_bundle(bundle_factory(), parse_reference(f"oci://{registry.host}/insp/demo"))
    described = inspect_remote(f"oci://{registry.host}/insp/demo:1.0")
    assert described["digest"] == pushed.digest
    assert described["program"] == {"name": "demo", "version": "1.0"}
    assert [layer["part"] for layer in described["layers"]] == ["program", "code", "data"]
    shown = capsys.readouterr().out
    assert "demo 1.0" in shown and "application/vnd.samepack.data.v1.tar+gzip" in shown
    assert "org.opencontainers.image.version = 1.0" in shown
    inspect_remote(f"oci://{registry.host}/insp/demo@{pushed.digest}", as_json=True)
    assert json.loads(capsys.readouterr().out)["pinned"].endswith(pushed.digest)
