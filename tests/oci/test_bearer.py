"""The bearer-token flow against a real registry configured with `auth: token`: the challenge's
realm/service/scope are followed, the token is fetched with the basic credentials."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support import require_module

from samepack.oci.pull import pull_bundle
from samepack.oci.push import push_bundle
from samepack.oci.reference import parse_reference


def _normalised(scope: str) -> frozenset:
    """A scope parameter as a set of (resource, frozenset(actions)): the registry lists actions
    in no fixed order."""
    entries = []
    for entry in scope.split(" "):
        resource, _, actions = entry.rpartition(":")
        entries.append((resource, frozenset(actions.split(","))))
    return frozenset(entries)


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory, oci_helper):
    require_module("cryptography")
    from samepack.oci.localregistry import LocalRegistry

    TokenServer = oci_helper("tokenserver").TokenServer

    workdir = tmp_path_factory.mktemp("token-registry")
    tokens = TokenServer(workdir, "alice", "token-Pa55").start()
    server = LocalRegistry(workdir / "registry", auth=tokens.registry_auth()).start()
    yield server, tokens
    server.stop()
    tokens.stop()


def test_bearer_round_trip_and_mount(token_registry, bundle_factory, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    server, tokens = token_registry
    monkeypatch.setenv("SAMEPACK_REGISTRY_USER", "alice")
    monkeypatch.setenv("SAMEPACK_REGISTRY_PASSWORD", "token-Pa55")
    bundle = bundle_factory()
    pushed = push_bundle(bundle, parse_reference(f"oci://{server.host}/team/demo"))
    copy = push_bundle(bundle, parse_reference(f"oci://{server.host}/team/copy"))
    assert set(copy.outcomes.values()) == {"mounted"}
    pulled = pull_bundle(pushed.pinned, tmp_path / "out.tgz")
    assert pulled.path.read_bytes() == bundle.read_bytes()
    scopes = {_normalised(s) for request in tokens.requests for s in request.get("scope", [])}
    assert _normalised("repository:team/demo:pull,push") in scopes
    assert _normalised("repository:team/copy:pull,push repository:team/demo:pull") in scopes
    assert all(r.get("service") == ["samepack-test-registry"] for r in tokens.requests)


def test_bearer_wrong_password(token_registry, bundle_factory, samepack) -> None:
    server, _ = token_registry
    env = {"SAMEPACK_REGISTRY_USER": "alice", "SAMEPACK_REGISTRY_PASSWORD": "nope-Secret-99"}
    started = time.monotonic()
    result = samepack("push", bundle_factory(), f"oci://{server.host}/team/demo", env=env)
    assert time.monotonic() - started < 5
    assert result.exit_code == 8
    assert result.stderr.splitlines()[0] == (
        f"error: registry {server.host} refused the credentials (from $SAMEPACK_REGISTRY_USER)")
    assert "nope-Secret-99" not in result.stdout + result.stderr
