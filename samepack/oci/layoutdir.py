"""An OCI image layout folder (``oci-layout:DIR[:TAG]``), as skopeo, buildah and ORAS write
it: ``oci-layout``, ``index.json`` and ``blobs/sha256/<hex>``.

Tagged manifests carry ``org.opencontainers.image.ref.name`` in ``index.json``; referrers
(manifests with a ``subject``) are listed there without a name, as ORAS stores them, and are
found by reading the manifests listed. Blobs are written under a temp name, checked, then
renamed; ``index.json`` is replaced atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from samepack.errors import InputError, NotFoundError, VerificationError
from samepack.oci.artifact import MAX_MANIFEST_BYTES, OCI_INDEX, OCI_MANIFEST, sha256_digest
from samepack.oci.referrers import Referrer

SCHEME = "oci-layout:"
REF_NAME = "org.opencontainers.image.ref.name"
LAYOUT_FILE = b'{"imageLayoutVersion":"1.0.0"}'
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_BLOCK = 4 * 1024 * 1024
HINT = "write it as oci-layout:DIR[:TAG] or oci-layout:DIR@sha256:DIGEST"


@dataclass(frozen=True)
class LayoutReference:
    path: Path
    tag: str | None = None
    digest: str | None = None

    @property
    def version(self) -> str | None:
        return self.digest or self.tag

    def __str__(self) -> str:
        text = f"{SCHEME}{self.path}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def is_layout_reference(text: str) -> bool:
    return text.startswith(SCHEME)


def parse_layout_reference(text: str) -> LayoutReference:
    """``oci-layout:DIR``, ``oci-layout:DIR:TAG`` or ``oci-layout:DIR@sha256:...`` (a tag is
    what follows the last ``:`` after the last ``/``)."""
    rest = text[len(SCHEME):]
    rest, _, digest = rest.partition("@")
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1:]
    if not rest:
        raise InputError(f"layout reference {text!r} names no folder", HINT)
    if tag is not None and not _TAG.match(tag):
        raise InputError(f"layout reference {text!r}: bad tag {tag!r}", HINT)
    if digest and not _DIGEST.match(digest):
        raise InputError(f"layout reference {text!r}: bad digest {digest!r}", HINT)
    return LayoutReference(Path(rest), tag, digest or None)


class LayoutDir:
    """One OCI layout folder; created on the first write."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def blobs(self) -> Path:
        return self.path / "blobs" / "sha256"

    def blob_path(self, digest: str) -> Path:
        if not _DIGEST.match(digest):
            raise VerificationError(f"{self.path}: blob digest {digest!r} is not sha256")
        return self.blobs / digest.removeprefix("sha256:")

    def ensure(self) -> None:
        if (self.path / "oci-layout").is_file():
            return
        if self.path.exists() and any(self.path.iterdir()):
            raise InputError(f"{self.path}: not an OCI layout folder (no oci-layout file) and "
                             "not empty", "give an empty or new folder, or an OCI layout")
        self.blobs.mkdir(parents=True, exist_ok=True)
        (self.path / "oci-layout").write_bytes(LAYOUT_FILE)
        self._write_index([])

    def _index(self) -> list[dict]:
        index_file = self.path / "index.json"
        if not index_file.is_file():
            if not self.path.is_dir():
                raise NotFoundError(f"{self.path}: no such OCI layout folder",
                                    "give a folder written by `samepack copy` or skopeo")
            raise InputError(f"{self.path}: no index.json, not an OCI layout folder",
                             "give a folder written by `samepack copy` or skopeo")
        try:
            data = json.loads(index_file.read_bytes())
            manifests = data["manifests"]
            if not isinstance(manifests, list):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise InputError(f"{index_file}: not a valid OCI image index",
                             "the layout is damaged; copy it again") from None
        return [m for m in manifests if isinstance(m, dict)]

    def _write_index(self, manifests: list[dict]) -> None:
        data = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
        temp = self.path / ".index.json.samepack-tmp"
        temp.write_bytes(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
        os.replace(temp, self.path / "index.json")

    def has_blob(self, digest: str, size: int) -> bool:
        path = self.blob_path(digest)
        return path.is_file() and path.stat().st_size == size

    def read_blob(self, digest: str, size: int, limit: int = 64 * 1024 * 1024) -> bytes:
        path = self.blob_path(digest)
        if not path.is_file():
            raise NotFoundError(f"{self.path}: blob {digest} is missing",
                                "the layout is incomplete; copy it again")
        if size > limit:
            raise VerificationError(f"{self.path}: blob {digest} of {size} bytes is too large")
        data = path.read_bytes()
        if len(data) != size or sha256_digest(data) != digest:
            raise VerificationError(f"{self.path}: blob {digest} does not match its digest",
                                    "the layout is damaged; copy it again")
        return data

    def verified_blob_file(self, digest: str, size: int) -> Path:
        """The blob's file, after hashing it (a layout is a folder anyone may have edited)."""
        path = self.blob_path(digest)
        if not path.is_file():
            raise NotFoundError(f"{self.path}: blob {digest} is missing",
                                "the layout is incomplete; copy it again")
        if path.stat().st_size != size or "sha256:" + _hash(path) != digest:
            raise VerificationError(f"{self.path}: blob {digest} does not match its digest",
                                    "the layout is damaged; copy it again")
        return path

    def scratch(self) -> Path:
        """A folder for partial blobs, beside the blobs (so a finished one is renamed in)."""
        self.ensure()
        folder = self.path / "blobs" / ".partial"
        folder.mkdir(exist_ok=True)
        return folder

    def adopt_blob(self, digest: str, size: int, file: Path, verified: bool) -> None:
        """Place ``file`` (renamed when ``verified`` and on this file system, else copied and
        checked) as the blob ``digest``."""
        self.ensure()
        target = self.blob_path(digest)
        if target.is_file() and target.stat().st_size == size:
            return
        scratch = self.scratch()
        if verified and scratch in Path(file).parents:
            os.replace(file, target)
            return
        temp = scratch / f"{digest.removeprefix('sha256:')}.{os.getpid()}"
        shutil.copyfile(file, temp)
        if temp.stat().st_size != size or "sha256:" + _hash(temp) != digest:
            temp.unlink(missing_ok=True)
            raise VerificationError(f"blob {digest} changed while it was copied")
        os.replace(temp, target)

    def put_blob_bytes(self, data: bytes) -> str:
        self.ensure()
        digest = sha256_digest(data)
        target = self.blob_path(digest)
        if not target.is_file():
            temp = self.scratch() / f"{digest.removeprefix('sha256:')}.{os.getpid()}"
            temp.write_bytes(data)
            os.replace(temp, target)
        return digest

    def resolve(self, version: str) -> dict:
        """The index entry of a tag or digest."""
        for entry in self._index():
            if version.startswith("sha256:") and entry.get("digest") == version:
                return entry
            if (entry.get("annotations") or {}).get(REF_NAME) == version:
                return entry
        raise NotFoundError(f"{SCHEME}{self.path}: no manifest tagged or named {version}",
                            f"list the tags in {self.path / 'index.json'}")

    def get_manifest(self, version: str) -> tuple[bytes, str]:
        """A manifest by tag or digest; by digest also one that only an index lists (the
        per-platform manifests of a multi-platform image)."""
        try:
            entry = self.resolve(version)
        except NotFoundError:
            path = self.blob_path(version) if version.startswith("sha256:") else None
            if path is None or not path.is_file():
                raise
            data = self.read_blob(version, path.stat().st_size, MAX_MANIFEST_BYTES)
            try:
                declared = json.loads(data).get("mediaType")
            except (ValueError, AttributeError):
                declared = None
            return data, str(declared or OCI_MANIFEST)
        data = self.read_blob(entry["digest"], int(entry["size"]))
        return data, str(entry.get("mediaType") or OCI_MANIFEST)

    def put_manifest(self, data: bytes, media_type: str, tag: str | None) -> str:
        """Store the manifest bytes and list them in index.json (under ``tag``, replacing what
        the tag named; without a tag, once)."""
        digest = self.put_blob_bytes(data)
        parsed = json.loads(data)
        entry: dict = {"mediaType": media_type, "digest": digest, "size": len(data)}
        if parsed.get("artifactType"):
            entry["artifactType"] = parsed["artifactType"]
        if tag:
            entry["annotations"] = {REF_NAME: tag}
        kept = [e for e in self._index()
                if not (tag and (e.get("annotations") or {}).get(REF_NAME) == tag)
                and not (not tag and e.get("digest") == digest and not e.get("annotations"))]
        self._write_index(kept + [entry])
        return digest

    def referrers(self, digest: str) -> list[Referrer]:
        """Manifests listed in index.json whose subject is ``digest``."""
        found = []
        for entry in self._index():
            path = self.blob_path(str(entry.get("digest", "")))
            if entry.get("mediaType") != OCI_MANIFEST or not path.is_file() \
                    or path.stat().st_size > 1024 * 1024:
                continue
            try:
                manifest = json.loads(path.read_bytes())
            except ValueError:
                continue
            if (manifest.get("subject") or {}).get("digest") == digest:
                found.append(Referrer(entry["digest"], int(entry["size"]),
                                      str(manifest.get("artifactType", "")),
                                      dict(manifest.get("annotations") or {})))
        return found


def _hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()
