"""Pull a samepack artifact and reassemble the bundle file byte for byte:
header segment (regenerated from the config) ‖ each layer, verified while streaming ‖ trailer.

The output appears only when every byte checked out (temp file beside the target, then rename).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from samepack.bundle.format import layout
from samepack.bundle.system.atomic import atomic_output
from samepack.bundle.format.manifest import Manifest
from samepack.errors import InputError, VerificationError
from samepack.oci import known
from samepack.oci.artifact import Artifact, Descriptor, layer_part, parse_artifact
from samepack.oci.blobs import ProgressFn, download_blob
from samepack.oci.reference import Reference
from samepack.oci.registry import Registry

MAX_CONFIG_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class RemoteBundle:
    """An artifact with its config read and checked against its layers; no layer fetched."""

    reference: Reference
    artifact: Artifact
    manifest_bytes: bytes
    manifest: Manifest


@dataclass(frozen=True)
class PullResult:
    path: Path
    remote: RemoteBundle
    received: int


def require_version(ref: Reference) -> str:
    if not ref.version:
        raise InputError(f"{ref}: no tag or digest",
                         "give oci://HOST/REPO:TAG or oci://HOST/REPO@sha256:DIGEST")
    return ref.version


def fetch_remote(registry: Registry, ref: Reference) -> RemoteBundle:
    """The artifact's manifest and config (the bundle manifest), verified, without layers."""
    fetched = registry.get_manifest(ref.repository, require_version(ref))
    artifact = parse_artifact(fetched.data, str(ref))
    if artifact.config.size > MAX_CONFIG_BYTES:
        raise VerificationError(f"{ref}: config of {artifact.config.size} bytes is over the limit")
    config = registry.get_blob_bytes(ref.repository, artifact.config.digest,
                                     artifact.config.size)
    manifest = Manifest.from_bytes(config)
    check_layers_match(artifact.layers, manifest, str(ref))
    return RemoteBundle(ref, artifact, config, manifest)


def check_layers_match(layers: list[Descriptor], manifest: Manifest, where: str) -> None:
    """Each layer must be the part the bundle manifest names at that place (digest, size, type),
    so the reassembled file is the one that was exported."""
    expected = [(p.name, f"sha256:{p.sha256}", p.size, p.media_type) for p in manifest.parts]
    actual = [(layer_part(l), l.digest, l.size, l.media_type) for l in layers]
    if expected != actual:
        raise VerificationError(f"{where}: the layers do not match the parts listed in the "
                                "bundle manifest (config)",
                                "the artifact was altered after `samepack push`; push it again")


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


def default_output(manifest: Manifest) -> Path:
    """``NAME-VERSION.tgz`` here; the names come from the registry, so they must be plain."""
    if not (_SAFE_NAME.match(manifest.name) and _SAFE_NAME.match(manifest.version)):
        raise InputError(f"the artifact names its program {manifest.name!r} version "
                         f"{manifest.version!r}, which is not a plain file name",
                         "choose the output file with -o FILE")
    return Path(f"{manifest.name}-{manifest.version}.tgz")


def pull_bundle(ref: Reference, output: Path | None = None, *, force: bool = False,
                insecure: bool = False, on_bytes: ProgressFn | None = None,
                registry: Registry | None = None) -> PullResult:
    """Download and reassemble; raise before anything is written at ``output`` on any fault."""
    require_version(ref)
    registry = registry or Registry.open(ref.host, insecure=insecure)
    remote = fetch_remote(registry, ref)
    target = Path(output) if output else default_output(remote.manifest)
    received = 0

    def count(n: int) -> None:
        nonlocal received
        received += n
        if on_bytes:
            on_bytes(n)

    with atomic_output(target, force=force) as handle:
        handle.write(layout.header_segment(remote.manifest_bytes))
        for layer in remote.artifact.layers:
            download_blob(registry.transport, ref.repository, layer.digest, layer.size, handle,
                          on_bytes=count)
        handle.write(layout.trailer_segment(remote.manifest.compression))
    known.remember(registry.host, ref.repository,
                   [remote.artifact.config.digest] + [l.digest for l in remote.artifact.layers])
    return PullResult(target, remote, received)
