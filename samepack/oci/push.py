"""Push a bundle file as one OCI artifact: config = the bundle manifest, one layer per part.

Blobs the repository already has are not sent (HEAD first); blobs another repository of the same
registry holds are mounted; the rest go up in chunks. The manifest goes last, so a reader never
sees a manifest whose blobs are missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from samepack.bundle.format import layout
from samepack.bundle.format.manifest import Manifest
from samepack.errors import InputError, RemoteError
from samepack.oci import known
from samepack.oci.artifact import (CONFIG_MEDIA_TYPE, OCI_MANIFEST, Descriptor, build_manifest,
                                   layer_descriptor)
from samepack.oci.blobs import DEFAULT_CHUNK, BlobSource, BytesBlob, FileSlice, ProgressFn, upload_blob
from samepack.oci.reference import Reference
from samepack.oci.registry import Registry

ANNOTATION = "org.opencontainers.image."


@dataclass(frozen=True)
class Layer:
    part: str
    compression: str
    blob: BlobSource


@dataclass
class PushResult:
    reference: Reference  # with the tag that was written
    digest: str           # of the exact manifest bytes
    sent: int = 0         # bytes put on the wire for blobs (re-sent chunks included)
    skipped: int = 0      # bytes of blobs the repository already had
    mounted: int = 0      # bytes of blobs mounted from another repository
    outcomes: dict[str, str] = field(default_factory=dict)  # part/config -> uploaded|present|mounted

    @property
    def pinned(self) -> Reference:
        return self.reference.with_digest(self.digest)

    def record(self, name: str, how: str, size: int) -> None:
        """Note what happened to one blob; uploaded bytes are counted as they go (``sent``)."""
        self.outcomes[name] = how
        if how == "present":
            self.skipped += size
        elif how == "mounted":
            self.mounted += size


def tag_for_version(version: str) -> str:
    """A program version as a tag: characters tags may not hold become ``_`` (``1.0+cu`` ->
    ``1.0_cu``)."""
    tag = re.sub(r"[^A-Za-z0-9_.-]", "_", version)[:128]
    return tag if tag and tag[0] not in ".-" else f"v{tag}"[:128]


def rfc3339(seconds: int) -> str:
    """The bundle's own time as RFC 3339 UTC; '' for 0 (no time recorded: no annotation)."""
    if not seconds:
        return ""
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def bundle_annotations(manifest: Manifest, source: str | None = None,
                       revision: str | None = None) -> dict[str, str]:
    return {f"{ANNOTATION}title": manifest.name, f"{ANNOTATION}version": manifest.version,
            f"{ANNOTATION}created": rfc3339(manifest.created),
            f"{ANNOTATION}source": source or "", f"{ANNOTATION}revision": revision or ""}


def push_bundle(bundle_path: Path, ref: Reference, *, insecure: bool = False,
                source: str | None = None, revision: str | None = None,
                chunk_size: int = DEFAULT_CHUNK, on_bytes: ProgressFn | None = None,
                registry: Registry | None = None) -> PushResult:
    """Push a bundle file (checked segment by segment first) to ``ref``; the tag defaults to
    the program version."""
    if ref.digest:
        raise InputError(f"{ref}: push writes a tag, not a digest",
                         "give oci://HOST/REPO[:TAG]; the digest is printed after the push")
    manifest_bytes, manifest = layout.read_manifest(bundle_path)
    layers = [Layer(s.part, manifest.compression,
                    FileSlice(Path(bundle_path), s.offset, s.size, f"sha256:{s.sha256}"))
              for s in layout.segments(bundle_path)]
    tag = ref.tag or tag_for_version(manifest.version)
    registry = registry or Registry.open(ref.host, insecure=insecure)
    return push_artifact(registry, ref.with_tag(tag), BytesBlob(manifest_bytes), layers,
                         bundle_annotations(manifest, source, revision),
                         chunk_size=chunk_size, on_bytes=on_bytes)


def push_artifact(registry: Registry, ref: Reference, config: BlobSource, layers: list[Layer],
                  annotations: dict[str, str], *, chunk_size: int = DEFAULT_CHUNK,
                  on_bytes: ProgressFn | None = None) -> PushResult:
    """Push blobs (skipping and mounting where possible), then the manifest, to ``ref.tag``."""
    result = PushResult(ref, "")
    _ensure_blob(registry, ref.repository, "config", config, result, chunk_size, on_bytes)
    for layer in layers:
        _ensure_blob(registry, ref.repository, layer.part, layer.blob, result, chunk_size,
                     on_bytes)
    manifest = build_manifest(
        Descriptor(CONFIG_MEDIA_TYPE, config.digest, config.size),
        [layer_descriptor(l.part, l.compression, l.blob.digest, l.blob.size) for l in layers],
        annotations)
    result.digest = registry.put_manifest(ref.repository, ref.tag or "latest", manifest,
                                          OCI_MANIFEST)
    known.remember(registry.host, ref.repository, [config.digest] + [l.blob.digest for l in layers])
    return result


def _ensure_blob(registry: Registry, repository: str, name: str, blob: BlobSource,
                 result: PushResult, chunk_size: int, on_bytes: ProgressFn | None) -> None:
    if registry.blob_size(repository, blob.digest) == blob.size:
        return result.record(name, "present", blob.size)
    session = None
    sources = [r for r in known.repositories_holding(registry.host, blob.digest) if r != repository]
    if sources:
        try:
            session = registry.mount(repository, blob.digest, sources[0])
        except RemoteError:  # the hint was stale or the source is not ours to read: upload
            session = None
        if session is True:
            return result.record(name, "mounted", blob.size)

    def count(n: int) -> None:
        result.sent += n
        if on_bytes:
            on_bytes(n)

    upload_blob(registry.transport, repository, blob, chunk_size=chunk_size, on_bytes=count,
                location=session or None)
    result.record(name, "uploaded", blob.size)
