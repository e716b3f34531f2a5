"""``samepack inspect oci://...``: describe an artifact from its manifest and config alone."""

from __future__ import annotations


from samepack.console import json_result, out
from samepack.oci.artifact import layer_part
from samepack.oci.pull import RemoteBundle, fetch_remote
from samepack.oci.push import rfc3339
from samepack.oci.reference import parse_reference
from samepack.oci.registry import Registry


def describe(remote: RemoteBundle, referrers: list | tuple = ()) -> dict:
    """A plain, JSON-ready description (pure); ``referrers`` are what is stored beside the
    artifact (signatures, SBOM, provenance)."""
    artifact, manifest = remote.artifact, remote.manifest
    return {
        "reference": str(remote.reference),
        "digest": artifact.digest,
        "pinned": str(remote.reference.with_digest(artifact.digest)),
        "program": {"name": manifest.name, "version": manifest.version},
        "created": rfc3339(manifest.created) or None,
        "compression": manifest.compression,
        "tool_version": manifest.tool_version,
        "annotations": dict(sorted(artifact.annotations.items())),
        "config": {"digest": artifact.config.digest, "size": artifact.config.size,
                   "mediaType": artifact.config.media_type},
        "layers": [{"part": layer_part(layer), "mediaType": layer.media_type,
                    "digest": layer.digest, "size": layer.size} for layer in artifact.layers],
        "size": artifact.size,
        "referrers": [{"artifactType": r.artifact_type, "digest": r.digest, "size": r.size}
                      for r in referrers],
    }


def render(description: dict) -> list[str]:
    """The description as plain lines (pure); full digests, no wrapping."""
    program = description["program"]
    layers = description["layers"]
    lines = [f"{program['name']} {program['version']}  {description['reference']}",
             f"digest    {description['digest']}",
             f"created   {description['created'] or 'not recorded'}",
             f"size      {description['size']:,} bytes ({len(layers)} layers, config, manifest)",
             ""]
    width = max([len("part")] + [len(layer["part"]) for layer in layers])
    lines.append(f"{'part':<{width}}  {'size':>13}  {'digest':<71}  media type")
    for layer in layers:
        lines.append(f"{layer['part']:<{width}}  {layer['size']:>13,}  {layer['digest']:<71}  "
                     f"{layer['mediaType']}")
    lines += ["", "annotations"]
    lines += [f"  {key} = {value}" for key, value in description["annotations"].items()]
    if description.get("referrers"):
        lines += ["", "referrers (signatures, SBOM, provenance)"]
        lines += [f"  {r['artifactType']}  {r['digest']}  {r['size']:,} bytes"
                  for r in description["referrers"]]
    return lines


def inspect_remote(reference: str, *, insecure: bool = False, as_json: bool = False) -> dict:
    """Print what the artifact at ``reference`` holds (no layer is downloaded); return it."""
    from samepack.oci.referrers import list_referrers

    ref = parse_reference(reference)
    registry = Registry.open(ref.host, insecure=insecure)
    remote = fetch_remote(registry, ref)
    description = describe(remote, list_referrers(registry, ref.repository,
                                                  remote.artifact.digest))
    if as_json:
        json_result(description)
    else:
        for line in render(description):
            out.print(line, highlight=False, markup=False)
    return description
