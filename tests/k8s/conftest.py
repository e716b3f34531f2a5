"""Fixtures for the tests against a real API server: one control plane for the whole session
(tests/k8s/controlplane.py), a fresh namespace per test, KUBECONFIG pointing at it. Tests that
use it are grouped on one xdist worker (``pytest.mark.xdist_group("k8s-api")``). The exchange
registry of cluster runs is a real ``docker-registry`` on 127.0.0.1, one per session."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from samepack.oci.localregistry import LocalRegistry
from support import require_tool
from tests.k8s.controlplane import ControlPlane, control_plane_or_skip

_COUNTER = itertools.count()


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory):
    plane = control_plane_or_skip(tmp_path_factory.mktemp("control-plane"))
    try:
        plane.add_node("node-1", "4", "8Gi")
        yield plane
    finally:
        plane.stop()


@pytest.fixture
def kube(control_plane: ControlPlane, monkeypatch: pytest.MonkeyPatch) -> ControlPlane:
    """The control plane, with KUBECONFIG set to its admin kubeconfig for this test."""
    monkeypatch.setenv("KUBECONFIG", str(control_plane.kubeconfig()))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    return control_plane


@pytest.fixture
def namespace(request: pytest.FixtureRequest) -> str:
    """A namespace name of this test's own (not created: deploy creates it)."""
    stem = request.node.name.split("[")[0].removeprefix("test_").replace("_", "-")[:40].strip("-")
    return f"{stem}-{next(_COUNTER)}"


@pytest.fixture
def kubeconfig_path(kube: ControlPlane) -> Path:
    return kube.kubeconfig()


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory):
    """An open registry on 127.0.0.1 (stopped by PID at the end); a repository per test."""
    require_tool("docker-registry")
    server = LocalRegistry(tmp_path_factory.mktemp("exchange-registry")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def exchange(registry: LocalRegistry, namespace: str) -> str:
    """``oci://HOST/REPO``: this test's repository in the exchange registry."""
    return f"oci://{registry.host}/runs/{namespace}"


REGISTRY_USER, REGISTRY_PASSWORD = "runner", "exchange-Pa55-word"


@pytest.fixture(scope="session")
def login_registry(tmp_path_factory: pytest.TempPathFactory):
    """A registry on 127.0.0.1 with htpasswd (bcrypt) Basic auth for REGISTRY_USER."""
    require_tool("docker-registry")
    require_tool("htpasswd")
    server = LocalRegistry(tmp_path_factory.mktemp("login-registry"), user=REGISTRY_USER,
                           password=REGISTRY_PASSWORD).start()
    try:
        yield server
    finally:
        server.stop()
