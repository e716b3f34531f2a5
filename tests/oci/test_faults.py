"""Faults against real registries: refused connections and wrong passwords answer in seconds,
a registry restarted mid-transfer is waited for and the transfer resumes."""

from __future__ import annotations

import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from samepack.oci.localregistry import free_port
from samepack.oci.pull import pull_bundle
from samepack.oci.push import push_bundle
from samepack.oci.reference import parse_reference

CHUNK = 256 * 1024


@pytest.mark.parametrize("method", ["PATCH", "GET"])
def test_server_errors_are_retried(registry, bundle_factory, oci_helper, tmp_path: Path,
                                  method: str) -> None:
    """A 503 answer to an upload chunk (or a blob download): retried, the transfer completes."""
    from samepack.oci.registry import Registry

    bundle = bundle_factory()
    repo = f"retry/{method.lower()}"
    if method == "GET":
        push_bundle(bundle, parse_reference(f"oci://{registry.host}/{repo}"))
    with oci_helper("faultproxy").FaultProxy(registry.host, fail=1, method=method,
                                          where="/blobs/") as proxy:
        ref = parse_reference(f"oci://{proxy.host}/{repo}:1.0")
        if method == "PATCH":
            pushed = push_bundle(bundle, ref, registry=Registry.open(proxy.host))
            ref = pushed.pinned
        pulled = pull_bundle(ref, tmp_path / "out.tgz", registry=Registry.open(proxy.host))
    assert pulled.path.read_bytes() == bundle.read_bytes()
    assert proxy.seen.count((method, 503)) == 1


def test_persistent_server_errors_give_up_with_one_line(registry, bundle_factory,
                                                        oci_helper) -> None:
    from samepack.errors import RemoteError
    from samepack.oci.registry import Registry
    from samepack.oci.transport import RetryPolicy, Transport

    with oci_helper("faultproxy").FaultProxy(registry.host, fail=100, method="HEAD") as proxy:
        transport = Transport(proxy.host, retry=RetryPolicy((0.01, 0.01, 0.01)))
        transport.connect()
        with pytest.raises(RemoteError) as raised:
            push_bundle(bundle_factory(), parse_reference(f"oci://{proxy.host}/retry/never"),
                        registry=Registry(transport))
    assert raised.value.message == f"registry {proxy.host} answered 503 to HEAD " \
                                   "/v2/retry/never/blobs/" + raised.value.message.rsplit("/", 1)[1]
    assert proxy.seen.count(("HEAD", 503)) == 4  # four tries, then a clear error


def test_connection_refused_answers_fast(samepack, bundle_factory) -> None:
    bundle = bundle_factory()
    port = free_port()
    started = time.monotonic()
    result = samepack("push", bundle, f"oci://127.0.0.1:{port}/demo")
    assert time.monotonic() - started < 5
    assert result.exit_code == 8
    assert result.stderr.splitlines()[0] == (
        f"error: cannot reach registry 127.0.0.1:{port}: connection refused")
    started = time.monotonic()
    assert samepack("pull", f"oci://127.0.0.1:{port}/demo:1.0").exit_code == 8
    assert time.monotonic() - started < 5


def test_wrong_password_is_fast_and_never_printed(samepack, samepack_proc, auth_registry,
                                                  auth_credentials, bundle_factory) -> None:
    user, _ = auth_credentials
    secret = "wrong-Secret-7731"
    env = {"SAMEPACK_REGISTRY_USER": user, "SAMEPACK_REGISTRY_PASSWORD": secret}
    bundle = bundle_factory()
    target = f"oci://{auth_registry.host}/private/demo"
    started = time.monotonic()
    result = samepack("push", bundle, target, env=env)
    assert time.monotonic() - started < 5
    assert result.exit_code == 8
    assert result.stderr.splitlines()[0] == (
        f"error: registry {auth_registry.host} refused the credentials "
        "(from $SAMEPACK_REGISTRY_USER)")
    debug = samepack_proc("--debug", "push", bundle, target, env=env, timeout=120)
    assert debug.returncode != 0 and "Traceback" in debug.stderr
    assert "RemoteError: registry" in debug.stderr
    for output in (result.stdout, result.stderr, debug.stdout, debug.stderr):
        assert secret not in output


def test_login_then_push_and_pull(samepack, auth_registry, auth_credentials, bundle_factory,
                                  docker_config: Path, tmp_path: Path) -> None:
    user, password = auth_credentials
    bundle = bundle_factory()
    anonymous = samepack("push", bundle, f"oci://{auth_registry.host}/private/demo")
    assert anonymous.exit_code == 8 and "needs a login" in anonymous.stderr
    wrong = samepack("login", auth_registry.host, "-u", user, "--password-stdin",
                     input="not-it\n")
    assert wrong.exit_code == 8 and "refused the credentials" in wrong.stderr
    assert not (docker_config / "config.json").exists()
    ok = samepack("login", auth_registry.host, "-u", user, "--password-stdin",
                  input=password + "\n")
    assert ok.exit_code == 0, ok.stderr
    assert password not in ok.stdout + ok.stderr
    pushed = samepack("push", bundle, f"oci://{auth_registry.host}/private/demo")
    assert pushed.exit_code == 0, pushed.stderr
    out = tmp_path / "pulled.tgz"
    pulled = samepack("pull", f"oci://{auth_registry.host}/private/demo@{pushed.stdout.strip()}",
                      "-o", out)
    assert pulled.exit_code == 0, pulled.stderr
    assert out.read_bytes() == bundle.read_bytes()
    gone = samepack("logout", f"oci://{auth_registry.host}")
    assert gone.exit_code == 0 and "removed the credentials" in gone.stderr
    after = samepack("push", bundle, f"oci://{auth_registry.host}/private/demo")
    assert after.exit_code == 8 and "needs a login" in after.stderr
    again = samepack("logout", auth_registry.host)
    assert again.exit_code == 0 and "no credentials stored" in again.stderr


@contextmanager
def restart_during_transfer(registry, after: int, pause: float, uploads_lost: bool = False):
    """Yield ``(on_bytes, progress)`` for a transfer: once ``after`` bytes went by, a thread
    stops the registry, notes how far the transfer was (``progress[1]``), optionally deletes the
    registry's upload sessions, and starts it again on the same port and storage.
    ``on_bytes`` sleeps ``pause`` per call to keep the transfer under way meanwhile."""
    progress, ready = [0], threading.Event()

    def on_bytes(n: int) -> None:
        progress[0] += n
        if progress[0] >= after:
            ready.set()
        time.sleep(pause)

    def restart() -> None:
        if not ready.wait(30):
            return
        registry.stop()
        progress.append(progress[0])
        if uploads_lost:
            for uploads in registry.storage.rglob("_uploads"):
                shutil.rmtree(uploads)
        time.sleep(0.7)
        registry.start()

    thread = threading.Thread(target=restart)
    thread.start()
    try:
        yield on_bytes, progress
    finally:
        thread.join()


@pytest.mark.parametrize("uploads_lost", [False, True], ids=["continued", "started-over"])
def test_registry_restarted_mid_push_push_completes(own_registry, bundle_factory,
                                                    tmp_path: Path, uploads_lost: bool) -> None:
    bundle = bundle_factory(data=os.urandom(3_000_000))
    ref = parse_reference(f"oci://{own_registry.host}/restart/demo")
    with restart_during_transfer(own_registry, 4 * CHUNK, 0.1, uploads_lost) as (slow, progress):
        result = push_bundle(bundle, ref, chunk_size=CHUNK, on_bytes=slow)
    total = bundle.stat().st_size
    assert len(progress) == 2 and progress[1] < total  # stopped while the push was under way
    if uploads_lost:  # the registry forgot the session: that blob went again from its start
        assert result.sent >= total + 3 * CHUNK
    else:  # continued where the registry stood
        assert result.sent < total + 2 * CHUNK
    pulled = pull_bundle(result.pinned, tmp_path / "after.tgz")
    assert pulled.path.read_bytes() == bundle.read_bytes()


def test_registry_restarted_mid_pull_download_resumes(own_registry, bundle_factory,
                                                      tmp_path: Path) -> None:
    bundle = bundle_factory(data=os.urandom(24_000_000))
    pushed = push_bundle(bundle, parse_reference(f"oci://{own_registry.host}/resume/demo"))
    with restart_during_transfer(own_registry, 2_000_000, 0.05) as (slow, progress):
        pulled = pull_bundle(pushed.pinned, tmp_path / "resumed.tgz", on_bytes=slow)
    assert pulled.path.read_bytes() == bundle.read_bytes()
    layers = sum(layer.size for layer in pulled.remote.artifact.layers)
    assert len(progress) == 2 and progress[1] < layers  # stopped while the pull was under way
    assert pulled.received == layers  # resumed with Range: no byte fetched twice
