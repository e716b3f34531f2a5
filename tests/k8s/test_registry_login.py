"""The pods' side of a registry that wants a login: the data set fetch script, run as the
fetch container runs it (``python3 -c FETCH_SCRIPT URI TARGET SHA256``), against real
``docker-registry`` processes with Basic (htpasswd) and Bearer (token service) auth, and a
plain HTTP server on 127.0.0.1 standing for any other host."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from samepack.k8s.exchange.access import AUTH_ENV, REGISTRY_URL_ENV
from samepack.k8s.exchange.transfer import open_registry
from samepack.k8s.objects.pod import FETCH_SCRIPT
from samepack.oci.localregistry import LocalRegistry
from support import require_module, require_tool
from tests.k8s.conftest import REGISTRY_PASSWORD, REGISTRY_USER

DATA = b"sepal,petal\n5.1,1.4\n" * 1000


def fetch(uri: str, target: Path, sha256: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    plain = {k: v for k, v in os.environ.items() if k not in (AUTH_ENV, REGISTRY_URL_ENV)}
    return subprocess.run([sys.executable, "-c", FETCH_SCRIPT, uri, str(target), sha256],
                          env={**plain, **env}, capture_output=True, text=True, timeout=60)


def pushed_blob(host: str, repository: str, tmp_path: Path, monkeypatch, user: str,
                password: str) -> tuple[str, str]:
    """(blob URL, sha256) of DATA pushed with this machine's client and login."""
    monkeypatch.setenv("SAMEPACK_REGISTRY_USER", user)
    monkeypatch.setenv("SAMEPACK_REGISTRY_PASSWORD", password)
    source = tmp_path / "iris.csv"
    source.write_bytes(DATA)
    sha = hashlib.sha256(DATA).hexdigest()
    registry = open_registry(f"oci://{host}/{repository}")
    try:
        return registry.push_file(source, sha), sha
    finally:
        registry.close()


def login_env(host: str, user: str, password: str) -> dict[str, str]:
    return {AUTH_ENV: f"{user}:{password}", REGISTRY_URL_ENV: f"http://{host}"}


def test_a_data_set_is_fetched_from_a_registry_with_basic_auth(login_registry, tmp_path,
                                                                monkeypatch):
    url, sha = pushed_blob(login_registry.host, "runs/basic", tmp_path, monkeypatch,
                           REGISTRY_USER, REGISTRY_PASSWORD)
    anonymous = fetch(url, tmp_path / "anonymous.csv", sha, {})
    assert anonymous.returncode != 0 and "401" in anonymous.stderr
    assert not (tmp_path / "anonymous.csv").exists()

    done = fetch(url, tmp_path / "got.csv", sha, login_env(login_registry.host, REGISTRY_USER,
                                                           REGISTRY_PASSWORD))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "got.csv").read_bytes() == DATA

    wrong = fetch(url, tmp_path / "wrong.csv", sha, login_env(login_registry.host, REGISTRY_USER,
                                                              "not-the-password"))
    assert wrong.returncode != 0 and "401" in wrong.stderr
    assert "not-the-password" not in wrong.stderr


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory):
    require_tool("docker-registry")
    require_module("cryptography")
    from tests.oci.tokenserver import TokenServer

    workdir = tmp_path_factory.mktemp("token-exchange")
    tokens = TokenServer(workdir, "bob", "token-Pa55").start()
    server = LocalRegistry(workdir / "registry", auth=tokens.registry_auth()).start()
    try:
        yield server, tokens
    finally:
        server.stop()
        tokens.stop()


def test_a_data_set_is_fetched_from_a_registry_with_bearer_tokens(token_registry, tmp_path,
                                                                   monkeypatch):
    server, tokens = token_registry
    url, sha = pushed_blob(server.host, "runs/bearer", tmp_path, monkeypatch, "bob", "token-Pa55")
    asked = len(tokens.requests)
    done = fetch(url, tmp_path / "got.csv", sha, login_env(server.host, "bob", "token-Pa55"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "got.csv").read_bytes() == DATA
    scopes = [scope for request in tokens.requests[asked:] for scope in request.get("scope", [])]
    assert scopes == ["repository:runs/bearer:pull"]  # the scope the registry's challenge named


class _Challenging(BaseHTTPRequestHandler):
    """Answers every GET with a Basic challenge and notes what Authorization it was sent."""

    seen: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).seen.append(self.headers.get("Authorization"))
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="elsewhere"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_the_login_goes_to_no_host_but_the_registry(login_registry, tmp_path):
    elsewhere = ThreadingHTTPServer(("127.0.0.1", 0), _Challenging)
    thread = threading.Thread(target=elsewhere.serve_forever, daemon=True)
    thread.start()
    try:
        uri = f"http://127.0.0.1:{elsewhere.server_address[1]}/data/iris.csv"
        done = fetch(uri, tmp_path / "iris.csv", "", login_env(login_registry.host,
                                                               REGISTRY_USER, REGISTRY_PASSWORD))
    finally:
        elsewhere.shutdown()
        elsewhere.server_close()
    assert done.returncode != 0 and "401" in done.stderr
    assert _Challenging.seen == [None]  # asked once, never given the login
