"""``pull --json`` against the loopback registry: the written bundle, its digest, and a refusal
as a JSON error document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_pull_answers_in_json(samepack, registry, bundle_factory, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = bundle_factory()
    target = f"oci://{registry.host}/json/demo"
    pushed = samepack("push", bundle, target, "--json")
    assert pushed.exit_code == 0, pushed.stderr
    digest = json.loads(pushed.stdout)["digest"]
    monkeypatch.chdir(tmp_path)
    pulled = samepack("pull", f"{target}:1.0", "--json")
    assert pulled.exit_code == 0, pulled.stderr
    result = json.loads(pulled.stdout)
    assert result["ok"] is True and result["digest"] == digest
    assert (tmp_path / result["path"]).read_bytes() == bundle.read_bytes()
    assert 0 < result["received"] <= bundle.stat().st_size and result["imported"] is None

    refused = samepack("pull", f"{target}:1.0", "--json")
    assert refused.exit_code == 5
    error = json.loads(refused.stdout)["error"]
    assert error["exit_code"] == 5 and "demo-1.0.tgz exists" in error["message"]
    assert error["hint"]


def test_push_and_copy_refusals_are_json_documents(samepack, bundle_factory,
                                                   tmp_path: Path) -> None:
    """A registry that does not answer (a closed loopback port) is one error document."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    bundle = bundle_factory()
    for args in (("push", bundle, f"oci://127.0.0.1:{closed}/json/demo"),
                 ("copy", f"oci://127.0.0.1:{closed}/json/demo:1.0", f"oci-layout:{tmp_path}/out")):
        refused = samepack(*args, "--json", "--insecure")
        assert refused.exit_code != 0, refused.stdout
        error = json.loads(refused.stdout)["error"]
        assert error["exit_code"] == refused.exit_code and f"127.0.0.1:{closed}" in error["message"]
        assert "Traceback" not in refused.stderr
