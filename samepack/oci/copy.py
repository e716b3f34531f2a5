"""``samepack copy``: an artifact with everything that refers to it (signatures, SBOM,
provenance), between registries and OCI layout folders, byte for byte.

The manifest bytes are never re-serialised, so the digest at the destination is the digest at
the source; every blob is checked against its digest on the way (downloads are hashed while
streaming, uploads are checked by the registry, layout blobs are hashed before use), and the
copy is read back at the end. Blobs the destination has are not sent again.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from samepack.errors import InputError, VerificationError
from samepack.oci.artifact import DOCKER_LIST, OCI_INDEX, OCI_MANIFEST, MAX_MANIFEST_BYTES, sha256_digest
from samepack.oci.blobs import FileSlice, ProgressFn, download_blob, upload_blob
from samepack.oci.layoutdir import (LayoutDir, LayoutReference, is_layout_reference,
                                    parse_layout_reference)
from samepack.oci.reference import Reference, parse_reference
from samepack.oci.referrers import Referrer, list_referrers, put_referrer
from samepack.oci.registry import Registry

_INDEXES = (OCI_INDEX, DOCKER_LIST)
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


def parse_manifest(data: bytes, where: str) -> dict:
    """A manifest or index as JSON, refused (one line) unless it is a JSON object."""
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        manifest = None
    if not isinstance(manifest, dict):
        raise VerificationError(f"{where}: the manifest is not a JSON object",
                                "the source is damaged; do not copy it")
    return manifest


def descriptor_of(item: object, where: str) -> tuple[str, int]:
    """``(digest, size)`` of a descriptor, refused unless both are well formed (a digest
    becomes a URL path and a file name)."""
    digest = item.get("digest") if isinstance(item, dict) else None
    size = item.get("size") if isinstance(item, dict) else None
    if not (isinstance(digest, str) and _DIGEST.match(digest) and isinstance(size, int)
            and not isinstance(size, bool) and size >= 0):
        raise VerificationError(f"{where}: a descriptor without a valid sha256 digest and size",
                                "the source is damaged; do not copy it")
    return digest, size


class Endpoint(Protocol):
    name: str

    def get_manifest(self, version: str) -> tuple[bytes, str]: ...
    def has_blob(self, digest: str, size: int) -> bool: ...
    def blob_file(self, digest: str, size: int, scratch: Path, on_bytes: ProgressFn) -> Path: ...
    def receive_blob(self, digest: str, size: int, file: Path, on_bytes: ProgressFn) -> None: ...
    def put_manifest(self, data: bytes, media_type: str, tag: str | None) -> None: ...
    def put_child(self, data: bytes, media_type: str) -> None: ...
    def referrers(self, digest: str) -> list[Referrer]: ...
    def put_referrer(self, data: bytes) -> None: ...
    def scratch(self) -> Path | None: ...


class RegistryEndpoint:
    def __init__(self, ref: Reference, registry: Registry) -> None:
        self.ref, self.registry, self.name = ref, registry, str(ref)

    @property
    def repository(self) -> str:
        return self.ref.repository

    def get_manifest(self, version: str) -> tuple[bytes, str]:
        fetched = self.registry.get_manifest(self.repository, version)
        return fetched.data, _media_type(fetched.data, fetched.media_type)

    def has_blob(self, digest: str, size: int) -> bool:
        return self.registry.blob_size(self.repository, digest) == size

    def blob_file(self, digest: str, size: int, scratch: Path, on_bytes: ProgressFn) -> Path:
        target = scratch / digest.removeprefix("sha256:")
        with open(target, "wb") as handle:
            download_blob(self.registry.transport, self.repository, digest, size, handle,
                          on_bytes=on_bytes)
        return target

    def receive_blob(self, digest: str, size: int, file: Path, on_bytes: ProgressFn) -> None:
        # One PATCH per blob: a registry re-reads what earlier chunks stored, and after a fault
        # upload_blob asks how far the upload got and goes on from there anyway.
        upload_blob(self.registry.transport, self.repository, FileSlice(file, 0, size, digest),
                    chunk_size=max(size, 1), on_bytes=on_bytes)

    def put_manifest(self, data: bytes, media_type: str, tag: str | None) -> None:
        self.registry.put_manifest(self.repository, tag or sha256_digest(data), data, media_type)

    def put_child(self, data: bytes, media_type: str) -> None:
        self.put_manifest(data, media_type, None)

    def referrers(self, digest: str) -> list[Referrer]:
        return list_referrers(self.registry, self.repository, digest)

    def put_referrer(self, data: bytes) -> None:
        put_referrer(self.registry, self.repository, data)

    def scratch(self) -> Path | None:
        return None


class LayoutEndpoint:
    def __init__(self, ref: LayoutReference) -> None:
        self.ref, self.layout, self.name = ref, LayoutDir(ref.path), str(ref)

    def get_manifest(self, version: str) -> tuple[bytes, str]:
        data, media_type = self.layout.get_manifest(version)
        return data, _media_type(data, media_type)

    def has_blob(self, digest: str, size: int) -> bool:
        return self.layout.has_blob(digest, size)

    def blob_file(self, digest: str, size: int, scratch: Path, on_bytes: ProgressFn) -> Path:
        path = self.layout.verified_blob_file(digest, size)
        on_bytes(size)
        return path

    def receive_blob(self, digest: str, size: int, file: Path, on_bytes: ProgressFn) -> None:
        self.layout.adopt_blob(digest, size, file, verified=True)

    def put_manifest(self, data: bytes, media_type: str, tag: str | None) -> None:
        self.layout.put_manifest(data, media_type, tag)

    def put_child(self, data: bytes, media_type: str) -> None:
        self.layout.put_blob_bytes(data)

    def referrers(self, digest: str) -> list[Referrer]:
        return self.layout.referrers(digest)

    def put_referrer(self, data: bytes) -> None:
        self.layout.put_manifest(data, OCI_MANIFEST, None)

    def scratch(self) -> Path | None:
        return self.layout.scratch()


def _media_type(data: bytes, served: str) -> str:
    try:
        declared = json.loads(data).get("mediaType")
    except (ValueError, AttributeError):
        declared = None
    return declared or served.split(";")[0].strip() or OCI_MANIFEST


@dataclass
class CopyResult:
    source: str
    destination: str
    digest: str
    blobs_copied: int = 0
    blobs_present: int = 0
    bytes_copied: int = 0
    referrers: list[str] = field(default_factory=list)


def open_endpoint(text: str, insecure: bool = False) -> tuple[Endpoint, str | None]:
    """An endpoint for ``oci://...`` or ``oci-layout:DIR...``, and the version it names."""
    if is_layout_reference(text):
        ref = parse_layout_reference(text)
        return LayoutEndpoint(ref), ref.version
    if text.startswith("oci://"):
        ref = parse_reference(text)
        return RegistryEndpoint(ref, Registry.open(ref.host, insecure=insecure)), ref.version
    raise InputError(f"{text!r} is neither oci://HOST/REPO:TAG nor oci-layout:DIR[:TAG]",
                     "copy between oci://HOST[:PORT]/REPO[:TAG] and oci-layout:DIR[:TAG]")


class _Copier:
    def __init__(self, src: Endpoint, dst: Endpoint, scratch: Path,
                 on_bytes: ProgressFn | None) -> None:
        self.src, self.dst, self.scratch = src, dst, scratch
        self.on_bytes = on_bytes or (lambda n: None)
        self.result: CopyResult | None = None

    def blobs(self, data: bytes, media_type: str) -> None:
        """Every blob a manifest needs at the destination (for an index: its manifests')."""
        manifest = parse_manifest(data, self.src.name)
        if media_type in _INDEXES or "manifests" in manifest:
            for child in manifest.get("manifests") or []:
                child_digest, _ = descriptor_of(child, self.src.name)
                child_data, child_type = self.src.get_manifest(child_digest)
                self.blobs(child_data, child_type)
                self.dst.put_child(child_data, child_type)
            return
        blobs = ([manifest["config"]] if "config" in manifest else []) \
            + list(manifest.get("layers") or [])
        for blob in blobs:
            digest, size = descriptor_of(blob, self.src.name)
            if self.dst.has_blob(digest, size):
                self.result.blobs_present += 1
                continue
            file = self.src.blob_file(digest, size, self.scratch, self._count)
            try:
                self.dst.receive_blob(digest, size, file, lambda n: None)
            finally:
                if file.parent == self.scratch:  # a download of ours (a layout's own blob stays)
                    file.unlink(missing_ok=True)
            self.result.blobs_copied += 1

    def _count(self, n: int) -> None:
        self.result.bytes_copied += n
        self.on_bytes(n)


def copy_artifact(source: str, destination: str, *, insecure: bool = False,
                  on_bytes: ProgressFn | None = None, with_referrers: bool = True) -> CopyResult:
    """Copy the artifact at ``source`` (and its referrers) to ``destination``; the tag at the
    destination is its own, else the source's."""
    src, version = open_endpoint(source, insecure)
    if version is None:
        raise InputError(f"{source}: no tag or digest to copy", "name the artifact with :TAG or "
                                                                "@sha256:DIGEST")
    dst, dst_version = open_endpoint(destination, insecure)
    dst_tag = dst_version if dst_version and not dst_version.startswith("sha256:") else None
    dst_tag = dst_tag or (version if not version.startswith("sha256:") else None)
    data, media_type = src.get_manifest(version)
    if len(data) > MAX_MANIFEST_BYTES:
        raise VerificationError(f"{source}: manifest over {MAX_MANIFEST_BYTES} bytes")
    digest = sha256_digest(data)
    if version.startswith("sha256:") and digest != version:
        raise VerificationError(f"{source}: the manifest's digest is {digest}, not {version}",
                                "the source is damaged; do not copy it")
    scratch_parent = dst.scratch()
    scratch = Path(tempfile.mkdtemp(prefix="copy-", dir=scratch_parent))
    copier = _Copier(src, dst, scratch, on_bytes)
    copier.result = CopyResult(source, destination, digest)
    try:
        copier.blobs(data, media_type)
        dst.put_manifest(data, media_type, dst_tag)
        for referrer in src.referrers(digest) if with_referrers else []:
            referrer_data, referrer_type = src.get_manifest(referrer.digest)
            copier.blobs(referrer_data, referrer_type)
            dst.put_referrer(referrer_data)
            copier.result.referrers.append(referrer.digest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if scratch_parent is not None:
            try:
                scratch_parent.rmdir()  # leave a layout as skopeo would: no empty folders
            except OSError:
                pass
    copied, _ = dst.get_manifest(dst_tag or digest)
    if copied != data:
        raise VerificationError(f"{destination}: the copied manifest differs from the source's",
                                "the destination changed it; do not trust this copy")
    return copier.result
