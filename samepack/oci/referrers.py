"""OCI 1.1 referrers: small artifacts (signatures, SBOM, provenance) stored beside a manifest.

A referrer is an image manifest whose ``subject`` is the artifact it is about. Registries with
the referrers API list them at ``/v2/<repo>/referrers/<digest>``; for those without it (like
CNCF distribution 2.8) the client keeps the list itself in an image index under the fallback
tag ``sha256-<hex>``, as the distribution spec describes. Both are written and read here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from samepack.errors import NotFoundError, VerificationError
from samepack.oci.artifact import OCI_INDEX, OCI_MANIFEST, Descriptor, sha256_digest
from samepack.oci.blobs import BytesBlob, upload_blob
from samepack.oci.registry import Registry

EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = b"{}"
MAX_REFERRER_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Referrer:
    digest: str
    size: int
    artifact_type: str
    annotations: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict:
        data = {"artifactType": self.artifact_type, "digest": self.digest,
                "mediaType": OCI_MANIFEST, "size": self.size}
        if self.annotations:
            data["annotations"] = dict(sorted(self.annotations.items()))
        return data


def fallback_tag(digest: str) -> str:
    """``sha256:abc...`` -> ``sha256-abc...`` (the referrers tag schema)."""
    return digest.replace(":", "-")[:128]


def _dumps(data: dict) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def referrer_manifest(subject: Descriptor, artifact_type: str, layer: Descriptor,
                      annotations: dict[str, str]) -> bytes:
    """The exact manifest bytes of a referrer (pure): empty config, one layer."""
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": artifact_type,
                "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": sha256_digest(EMPTY_CONFIG),
                           "size": len(EMPTY_CONFIG)},
                "layers": [layer.as_json()],
                "subject": {"mediaType": subject.media_type, "digest": subject.digest,
                            "size": subject.size}}
    if annotations:
        manifest["annotations"] = dict(sorted(annotations.items()))
    return _dumps(manifest)


def attach(registry: Registry, repository: str, subject: Descriptor, artifact_type: str,
           data: bytes, media_type: str, annotations: dict[str, str] | None = None) -> str:
    """Store ``data`` as a referrer of ``subject``; its manifest digest."""
    for blob in (BytesBlob(EMPTY_CONFIG), BytesBlob(data)):
        if registry.blob_size(repository, blob.digest) != blob.size:
            upload_blob(registry.transport, repository, blob)
    layer = Descriptor(media_type, sha256_digest(data), len(data))
    manifest = referrer_manifest(subject, artifact_type, layer, annotations or {})
    return put_referrer(registry, repository, manifest)


def put_referrer(registry: Registry, repository: str, manifest: bytes) -> str:
    """PUT a referrer manifest (by digest) and, unless the registry says it indexes subjects
    itself (``OCI-Subject``), add it to the fallback tag's index."""
    parsed = json.loads(manifest)
    digest = sha256_digest(manifest)
    subject = (parsed.get("subject") or {}).get("digest") if isinstance(parsed, dict) else None
    if not isinstance(subject, str):
        raise VerificationError(f"referrer {digest} names no subject",
                                "the source's referrers index is damaged; sign or push again")
    response = registry.transport.request(
        "PUT", f"/v2/{repository}/manifests/{digest}", data=manifest,
        headers={"Content-Type": parsed.get("mediaType", OCI_MANIFEST)})
    if response.status_code != 201:
        raise registry.transport.error(response, f"storing a referrer in {repository}")
    if response.headers.get("OCI-Subject"):
        return digest
    referrer = Referrer(digest, len(manifest), parsed.get("artifactType", ""),
                        dict(parsed.get("annotations") or {}))
    known = _fallback_list(registry, repository, subject)
    if any(r.digest == digest for r in known):
        return digest
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX,
             "manifests": [r.as_json() for r in known + [referrer]]}
    registry.put_manifest(repository, fallback_tag(subject), _dumps(index), OCI_INDEX)
    return digest


def _parse_index(data: bytes, where: str) -> list[Referrer]:
    try:
        index = json.loads(data)
        items = index.get("manifests") or []
        return [Referrer(item["digest"], int(item["size"]), str(item.get("artifactType", "")),
                         dict(item.get("annotations") or {}))
                for item in items if isinstance(item, dict)]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise VerificationError(f"{where}: the referrers index is not a valid image index",
                                "delete the tag and sign or push again") from None


def _fallback_list(registry: Registry, repository: str, digest: str) -> list[Referrer]:
    try:
        fetched = registry.get_manifest(repository, fallback_tag(digest))
    except NotFoundError:
        return []
    return _parse_index(fetched.data, f"{registry.host}/{repository}:{fallback_tag(digest)}")


def list_referrers(registry: Registry, repository: str, digest: str,
                   artifact_type: str | None = None) -> list[Referrer]:
    """The referrers of ``digest``: the referrers API where the registry has it, else the
    fallback tag. Filtered by ``artifact_type`` when given."""
    response = registry.transport.request("GET", f"/v2/{repository}/referrers/{digest}",
                                          headers={"Accept": OCI_INDEX})
    found = None
    if response.status_code == 200 and OCI_INDEX in response.headers.get("Content-Type", ""):
        found = _parse_index(response.content, f"{registry.host}/{repository} referrers")
    if found is None:
        found = _fallback_list(registry, repository, digest)
    return [r for r in found if artifact_type is None or r.artifact_type == artifact_type]


def referrer_payload(registry: Registry, repository: str, referrer: Referrer) -> bytes:
    """The single layer of a referrer, verified against its digest."""
    fetched = registry.get_manifest(repository, referrer.digest)
    try:
        layers = json.loads(fetched.data)["layers"]
        layer = layers[0]
        digest, size = layer["digest"], int(layer["size"])
    except (ValueError, KeyError, IndexError, TypeError):
        raise VerificationError(f"{registry.host}/{repository}@{referrer.digest}: a referrer "
                                "without a layer", "sign or push the artifact again") from None
    if size > MAX_REFERRER_BYTES:
        raise VerificationError(f"{registry.host}/{repository}@{referrer.digest}: a referrer "
                                f"layer of {size} bytes is over the limit")
    return registry.get_blob_bytes(repository, digest, size)
