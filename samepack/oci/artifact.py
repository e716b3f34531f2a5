"""The OCI shape of a bundle, as pure functions: build the image manifest for a push, and
read one back (refusing manifests that are not samepack bundles)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from samepack.errors import InputError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_ACCEPT = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST])
ARTIFACT_TYPE = "application/vnd.samepack.bundle.v1"
CONFIG_MEDIA_TYPE = "application/vnd.samepack.config.v1+json"
TITLE = "org.opencontainers.image.title"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
COMPRESSIONS = ("gzip", "zstd")


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_media_type(part: str, compression: str) -> str:
    return f"application/vnd.samepack.{part}.v1.tar+{compression}"


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict:
        data: dict = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.annotations:
            data["annotations"] = dict(sorted(self.annotations.items()))
        return data

    @property
    def title(self) -> str | None:
        return self.annotations.get(TITLE)


@dataclass(frozen=True)
class Artifact:
    """A samepack bundle as the registry holds it."""

    manifest_bytes: bytes
    digest: str
    config: Descriptor
    layers: list[Descriptor]
    annotations: dict[str, str]

    @property
    def compression(self) -> str:
        return layer_compression(self.layers[0]) if self.layers else "gzip"

    @property
    def size(self) -> int:
        return len(self.manifest_bytes) + self.config.size + sum(d.size for d in self.layers)


def layer_descriptor(part: str, compression: str, digest: str, size: int) -> Descriptor:
    return Descriptor(layer_media_type(part, compression), digest, size, {TITLE: part})


def build_manifest(config: Descriptor, layers: list[Descriptor],
                   annotations: dict[str, str]) -> bytes:
    """The exact manifest bytes to PUT: fixed key order, no whitespace, no clock."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": config.as_json(),
        "layers": [layer.as_json() for layer in layers],
        "annotations": dict(sorted((k, v) for k, v in annotations.items() if v)),
    }
    return json.dumps(manifest, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def parse_artifact(manifest_bytes: bytes, where: str) -> Artifact:
    """Read manifest bytes fetched from ``where``; refuse anything but a samepack bundle."""
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError:
        raise InputError(f"{where}: the registry's manifest is not JSON") from None
    except RecursionError:
        raise InputError(f"{where}: the registry's manifest nests too deeply") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{where}: the registry's manifest is not a JSON object")
    media_type = manifest.get("mediaType", "")
    if media_type in (OCI_INDEX, DOCKER_LIST) or "manifests" in manifest:
        raise _not_a_bundle(where, "an image index (a multi-platform container image)")
    if media_type == DOCKER_MANIFEST:
        raise _not_a_bundle(where, "a Docker container image")
    config = _descriptor(manifest.get("config"), where, "config")
    declared = manifest.get("artifactType")
    # OCI 1.1: without artifactType, the config's media type is the artifact's type.
    if declared not in (None, ARTIFACT_TYPE) or config.media_type != CONFIG_MEDIA_TYPE:
        what = ("a container image" if "image.config" in config.media_type
                else f"an artifact of type {declared or config.media_type!r}")
        raise _not_a_bundle(where, what)
    layers = [_descriptor(item, where, f"layers[{i}]")
              for i, item in enumerate(manifest.get("layers") or [])]
    for index, layer in enumerate(layers):
        layer_compression(layer, where, index)
    return Artifact(manifest_bytes, sha256_digest(manifest_bytes), config, layers,
                    dict(manifest.get("annotations") or {}))


def layer_compression(layer: Descriptor, where: str = "", index: int = 0) -> str:
    prefix = "application/vnd.samepack."
    compression = layer.media_type.rpartition("+")[2]
    if not layer.media_type.startswith(prefix) or compression not in COMPRESSIONS:
        raise InputError(f"{where}: layers[{index}] has media type {layer.media_type!r}, "
                         "not a samepack part")
    return compression


def layer_part(layer: Descriptor) -> str:
    """The part name: the title annotation, else the media type's middle."""
    if layer.title:
        return layer.title
    return layer.media_type.removeprefix("application/vnd.samepack.").split(".", 1)[0]


def _descriptor(data: object, where: str, name: str) -> Descriptor:
    if isinstance(data, dict):
        digest, size = data.get("digest"), data.get("size")
        valid = (isinstance(digest, str) and digest.startswith("sha256:")
                 and isinstance(size, int) and size >= 0 and isinstance(data.get("mediaType"), str))
        if valid:
            return Descriptor(data["mediaType"], digest, size, dict(data.get("annotations") or {}))
    raise InputError(f"{where}: manifest field {name} is not a valid sha256 descriptor")


def _not_a_bundle(where: str, what: str) -> InputError:
    return InputError(f"{where} is {what}, not a samepack bundle",
                      "pull it with the tool that made it (docker, skopeo); "
                      "samepack pulls only artifacts pushed by `samepack push`")
