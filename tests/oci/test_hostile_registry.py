"""A hostile registry (``hostileserver.py``, a real HTTP server in front of a real registry):
a blob shorter than its manifest states fails at once, a blob cut at the same place on every
try runs out of one bounded retry budget, and a frozen registry fails a push or a pull within
the configurable timeout, with one ``error:`` line and nothing written."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from samepack.oci.push import push_bundle
from samepack.oci.reference import parse_reference


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("hint:")]


@pytest.fixture
def pushed(registry, bundle_factory) -> tuple[Path, str]:
    """A bundle pushed to the real registry; (bundle, repository:tag)."""
    bundle = bundle_factory()
    push_bundle(bundle, parse_reference(f"oci://{registry.host}/hostile/demo:1.0"))
    return bundle, "hostile/demo:1.0"


def test_short_blob_fails_at_once(registry, pushed, oci_helper, samepack, tmp_path: Path) -> None:
    _, repo = pushed
    out = tmp_path / "out.tgz"
    with oci_helper("hostileserver").HostileRegistry(registry.host, "short") as hostile:
        started = time.monotonic()
        result = samepack("pull", f"oci://{hostile.host}/{repo}", "-o", out)
        elapsed = time.monotonic() - started
    assert elapsed < 10
    assert result.exit_code == 7, result.stderr
    errors = _errors(result.stderr)
    assert len(errors) == 1 and "shorter than the" in errors[0], errors
    assert not out.exists() and list(tmp_path.glob("*.tgz*")) == []
    assert not [r for r in hostile.requests if "Range" in r]  # one try was enough to know


def test_blob_cut_at_the_same_place_runs_out_of_tries(registry, pushed, oci_helper,
                                                      tmp_path: Path) -> None:
    from samepack.errors import RemoteError
    from samepack.oci.pull import pull_bundle
    from samepack.oci.registry import Registry
    from samepack.oci.transport import RetryPolicy, Transport

    _, repo = pushed
    out = tmp_path / "out.tgz"
    with oci_helper("hostileserver").HostileRegistry(registry.host, "cut") as hostile:
        transport = Transport(hostile.host, retry=RetryPolicy((0.01, 0.01, 0.01)))
        started = time.monotonic()
        with pytest.raises(RemoteError) as raised:
            pull_bundle(parse_reference(f"oci://{hostile.host}/{repo}"), out,
                        registry=Registry(transport))
        elapsed = time.monotonic() - started
    assert elapsed < 10
    assert "download of sha256:" in raised.value.message
    blob_gets = [r for r in hostile.requests if r.startswith("GET") and "/blobs/" in r]
    # the cut layer (the data part) was tried four times: no try brought a byte past the cut
    assert max(blob_gets.count(r) for r in blob_gets) == 4, hostile.requests
    assert not out.exists()


@pytest.mark.parametrize("command", ["pull", "push"])
def test_frozen_registry_fails_within_the_timeout(registry, pushed, oci_helper, samepack,
                                                  tmp_path: Path, command: str) -> None:
    bundle, repo = pushed
    out = tmp_path / "out.tgz"
    with oci_helper("hostileserver").HostileRegistry(registry.host, "frozen") as hostile:
        args = (["pull", f"oci://{hostile.host}/{repo}", "-o", out] if command == "pull"
                else ["push", bundle, f"oci://{hostile.host}/frozen/demo:1.0"])
        started = time.monotonic()
        result = samepack(*args, env={"SAMEPACK_REGISTRY_TIMEOUT": "2"})
        elapsed = time.monotonic() - started
    assert elapsed < 8  # one timeout of 2 s: a stalled request is not retried
    assert result.exit_code == 8, result.stderr
    errors = _errors(result.stderr)
    assert len(errors) == 1 and "did not answer" in errors[0] and "within 2 s" in errors[0]
    assert "SAMEPACK_REGISTRY_TIMEOUT" in result.stderr  # the hint says how to wait longer
    assert len([r for r in hostile.requests if r != "GET /v2/"]) == 1
    assert not out.exists()


def test_default_timeout_fails_a_frozen_registry_within_30_s(monkeypatch) -> None:
    """A stalled request is never retried (the tests above), so the default timeout is the
    whole wait: first contact plus one stalled request stay under 30 s."""
    from samepack.oci.transport import Transport

    monkeypatch.delenv("SAMEPACK_REGISTRY_TIMEOUT", raising=False)
    connect, read = Transport("127.0.0.1:1").timeout
    assert connect + read < 30


def test_bad_timeout_setting_is_one_line(samepack, bundle_factory) -> None:
    result = samepack("push", bundle_factory(), "oci://127.0.0.1:1/x",
                      env={"SAMEPACK_REGISTRY_TIMEOUT": "soon"})
    assert result.exit_code == 3
    assert _errors(result.stderr) == ["error: SAMEPACK_REGISTRY_TIMEOUT='soon' is not a number "
                                      "of seconds"]
