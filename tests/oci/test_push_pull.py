"""Push and pull real bundles through a real registry: byte-identical round trips, parts that
are not sent twice, pins by digest, mounts between repositories, tampering detected."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import requests

from samepack.errors import ConflictError, InputError, VerificationError
from samepack.oci.artifact import ARTIFACT_TYPE, CONFIG_MEDIA_TYPE, OCI_MANIFEST
from samepack.oci.pull import pull_bundle
from samepack.oci.push import push_bundle
from samepack.oci.reference import parse_reference


def _ref(registry, repo: str, version: str = "") -> object:
    return parse_reference(f"oci://{registry.host}/{repo}{version}")


def _manifest(registry, repo: str, version: str) -> dict:
    answer = requests.get(f"http://{registry.host}/v2/{repo}/manifests/{version}",
                          headers={"Accept": OCI_MANIFEST}, timeout=5)
    answer.raise_for_status()
    return answer.json()


def test_round_trip_is_byte_identical(registry, bundle_factory, tmp_path: Path) -> None:
    bundle = bundle_factory()
    result = push_bundle(bundle, _ref(registry, "rt/demo"))
    assert result.reference.tag == "1.0"  # the program version
    assert result.outcomes == {"config": "uploaded", "program": "uploaded", "code": "uploaded",
                               "data": "uploaded"}
    pulled = pull_bundle(_ref(registry, "rt/demo", ":1.0"), tmp_path / "out.tgz")
    assert pulled.path.read_bytes() == bundle.read_bytes()
    assert pulled.remote.manifest.name == "demo"


def test_manifest_shape(registry, bundle_factory) -> None:
    bundle = bundle_factory(compression="zstd")
    result = push_bundle(bundle, _ref(registry, "shape/demo", ":pinned"), revision="abc123")
    raw = requests.get(f"http://{registry.host}/v2/shape/demo/manifests/pinned",
                       headers={"Accept": OCI_MANIFEST}, timeout=5)
    assert "sha256:" + hashlib.sha256(raw.content).hexdigest() == result.digest
    assert raw.headers["Docker-Content-Digest"] == result.digest
    manifest = raw.json()
    assert manifest["schemaVersion"] == 2 and manifest["mediaType"] == OCI_MANIFEST
    assert manifest["artifactType"] == ARTIFACT_TYPE
    assert manifest["config"]["mediaType"] == CONFIG_MEDIA_TYPE
    assert [(l["mediaType"], l["annotations"]["org.opencontainers.image.title"])
            for l in manifest["layers"]] == [
        (f"application/vnd.samepack.{p}.v1.tar+zstd", p) for p in ("program", "code", "data")]
    assert manifest["annotations"] == {
        "org.opencontainers.image.created": "2023-11-14T22:13:20Z",
        "org.opencontainers.image.revision": "abc123",
        "org.opencontainers.image.title": "demo",
        "org.opencontainers.image.version": "1.0"}


def test_second_version_sends_only_changed_parts(registry, bundle_factory, tmp_path) -> None:
    first = push_bundle(bundle_factory("v1.tgz", version="1.0", epochs=10),
                        _ref(registry, "incr/demo"))
    second = push_bundle(bundle_factory("v2.tgz", version="1.1", epochs=20),
                         _ref(registry, "incr/demo"))
    assert first.sent > 3_000_000
    assert second.outcomes == {"config": "uploaded", "program": "uploaded", "code": "present",
                               "data": "present"}
    assert second.sent / first.sent < 0.01
    assert second.skipped > 3_000_000
    again = push_bundle(bundle_factory("v2b.tgz", version="1.1", epochs=20),
                        _ref(registry, "incr/demo"))
    assert again.sent == 0 and again.digest == second.digest  # deterministic manifest


def test_new_repository_mounts_known_blobs(registry, bundle_factory) -> None:
    bundle = bundle_factory()
    first = push_bundle(bundle, _ref(registry, "mount/source"))
    copy = push_bundle(bundle, _ref(registry, "mount/target"))
    assert set(copy.outcomes.values()) == {"mounted"}
    assert copy.sent == 0 and copy.mounted == first.sent
    assert copy.digest == first.digest


def test_pull_by_digest_and_wrong_digest(registry, bundle_factory, tmp_path) -> None:
    bundle = bundle_factory()
    pushed = push_bundle(bundle, _ref(registry, "pin/demo"))
    out = pull_bundle(pushed.pinned, tmp_path / "pinned.tgz").path
    assert out.read_bytes() == bundle.read_bytes()
    other = "sha256:" + "0" * 64
    with pytest.raises(Exception) as raised:
        pull_bundle(pushed.pinned.with_digest(other), tmp_path / "missing.tgz")
    assert "no artifact" in str(raised.value)
    assert not (tmp_path / "missing.tgz").exists()


def test_pull_refuses_to_overwrite_without_force(registry, bundle_factory, tmp_path) -> None:
    bundle = bundle_factory()
    push_bundle(bundle, _ref(registry, "force/demo"))
    target = tmp_path / "mine.tgz"
    target.write_bytes(b"user data")
    with pytest.raises(ConflictError):
        pull_bundle(_ref(registry, "force/demo", ":1.0"), target)
    assert target.read_bytes() == b"user data"
    pull_bundle(_ref(registry, "force/demo", ":1.0"), target, force=True)
    assert target.read_bytes() == bundle.read_bytes()


def test_tampered_blob_aborts_pull_and_leaves_nothing(registry, bundle_factory, tmp_path) -> None:
    bundle = bundle_factory(data=b"tamper me " * 100_000)
    pushed = push_bundle(bundle, _ref(registry, "tamper/demo"))
    layer = _manifest(registry, "tamper/demo", pushed.digest)["layers"][-1]["digest"]
    hexdigest = layer.split(":")[1]
    blob = (registry.storage / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest
            / "data")
    original = blob.read_bytes()
    out_dir = tmp_path / "pulled"
    out_dir.mkdir()
    try:
        blob.write_bytes(original[:-10] + bytes(b ^ 0xFF for b in original[-10:]))
        with pytest.raises(VerificationError) as raised:
            pull_bundle(pushed.pinned, out_dir / "out.tgz")
        assert layer in raised.value.message and "tampered" in raised.value.message
        assert list(out_dir.iterdir()) == []  # no output, no temp file
    finally:
        blob.write_bytes(original)


def test_push_refuses_a_digest_target(registry, bundle_factory) -> None:
    with pytest.raises(InputError, match="not a digest"):
        push_bundle(bundle_factory(), _ref(registry, "x/y", "@sha256:" + "1" * 64))


def test_pull_without_tag_asks_for_one(registry) -> None:
    with pytest.raises(InputError, match="no tag or digest"):
        pull_bundle(_ref(registry, "x/y"))


def test_foreign_manifests_are_refused(registry, tmp_path) -> None:
    """A container image pushed by hand (config + one layer) is refused with a clear message."""
    from samepack.oci.blobs import BytesBlob, upload_blob
    from samepack.oci.registry import Registry

    client = Registry.open(registry.host)
    config = BytesBlob(json.dumps({"architecture": "amd64", "os": "linux",
                                   "rootfs": {"type": "layers", "diff_ids": []}}).encode())
    layer = BytesBlob(b"\x1f\x8b" + b"\0" * 100)
    for blob in (config, layer):
        upload_blob(client.transport, "foreign/image", blob)
    image = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
             "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": config.digest, "size": config.size},
             "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                         "digest": layer.digest, "size": layer.size}]}
    client.put_manifest("foreign/image", "latest", json.dumps(image).encode(), OCI_MANIFEST)
    with pytest.raises(InputError) as raised:
        pull_bundle(_ref(registry, "foreign/image", ":latest"), tmp_path / "x.tgz")
    assert raised.value.message.endswith("is a container image, not a samepack bundle")
    other = dict(image, artifactType="application/vnd.example.thing")
    other["config"] = dict(image["config"], mediaType="application/vnd.example.config+json")
    client.put_manifest("foreign/image", "thing", json.dumps(other).encode(), OCI_MANIFEST)
    with pytest.raises(InputError, match="type 'application/vnd.example.thing'"):
        pull_bundle(_ref(registry, "foreign/image", ":thing"), tmp_path / "x.tgz")
    # another artifact type is refused even when its config claims to be a samepack one
    mixed = dict(other, config=dict(image["config"], mediaType=CONFIG_MEDIA_TYPE))
    client.put_manifest("foreign/image", "mixed", json.dumps(mixed).encode(), OCI_MANIFEST)
    with pytest.raises(InputError, match="type 'application/vnd.example.thing', not a samepack"):
        pull_bundle(_ref(registry, "foreign/image", ":mixed"), tmp_path / "x.tgz")
    assert not (tmp_path / "x.tgz").exists()
