"""Small pure rules: challenges, plain http, tags from versions, output names from a registry."""

from __future__ import annotations

import pytest

from samepack.bundle.format.manifest import Manifest
from samepack.errors import InputError
from samepack.oci.pull import default_output
from samepack.oci.push import tag_for_version
from samepack.oci.transport import Transport, parse_challenge


def test_parse_bearer_challenge() -> None:
    challenge = parse_challenge('Bearer realm="https://auth.example/token",'
                                'service="registry.example",scope="repository:a/b:pull,push"')
    assert challenge.scheme == "bearer"
    assert challenge.params == {"realm": "https://auth.example/token",
                                "service": "registry.example", "scope": "repository:a/b:pull,push"}
    assert parse_challenge('Basic realm="samepack"').scheme == "basic"


@pytest.mark.parametrize("host, insecure, allowed", [
    ("127.0.0.1:5000", False, True), ("localhost:5000", False, True),
    ("[::1]:5000", False, True), ("registry.example.com", False, False),
    ("10.1.2.3:5000", False, False), ("registry.example.com", True, True),
])
def test_plain_http_only_for_loopback_or_insecure(host: str, insecure: bool, allowed: bool) -> None:
    transport = Transport(host, insecure=insecure)
    assert transport.plain_http_allowed() is allowed
    assert transport.plain_http_allowed("http://auth.example.com/token") is insecure
    assert transport.plain_http_allowed("http://127.0.0.1:9/token") is True


def test_listed_insecure_registries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMEPACK_INSECURE_REGISTRIES", "registry.lan:5000, other.lan")
    assert Transport("registry.lan:5000").plain_http_allowed() is True
    assert Transport("other.lan").plain_http_allowed() is True
    assert Transport("registry.lan:5001").plain_http_allowed() is False


@pytest.mark.parametrize("version, tag", [
    ("1.0", "1.0"), ("2.1.0+cu121", "2.1.0_cu121"), ("nightly/3", "nightly_3"), (".x", "v.x"),
])
def test_tag_for_version(version: str, tag: str) -> None:
    assert tag_for_version(version) == tag


@pytest.mark.parametrize("name, version", [("../../etc/evil", "1"), ("ok", "../1"), (".hidden", "1")])
def test_default_output_refuses_names_that_are_paths(name: str, version: str) -> None:
    manifest = Manifest(name, version, 0, "gzip", "0")
    with pytest.raises(InputError, match="not a plain file name"):
        default_output(manifest)


def test_default_output() -> None:
    assert str(default_output(Manifest("wine-quality", "1.0", 0, "gzip", "0"))) == \
        "wine-quality-1.0.tgz"
