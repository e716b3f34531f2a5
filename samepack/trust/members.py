"""The attestation members of a bundle file, read from the segment holding them alone
(``program`` since bundle format 2, ``metadata`` before)
(checked against the manifest: segment sha256, then each member's), without reading the
rest of the file."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

from samepack.bundle.format import layout
from samepack.bundle.format.tarblocks import END_OF_ARCHIVE
from samepack.errors import VerificationError
from samepack.trust.provenance import ATTESTATION_PATHS

MAX_METADATA_SEGMENT = 256 * 1024 * 1024


def _decompress(data: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return gzip.decompress(data)
    import zstandard

    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    return reader.read()


def attestation_members(bundle: Path) -> dict[str, bytes]:
    """``{path: bytes}`` of the provenance and SBOM members, verified; {} when the bundle has
    none (a bundle exported before samepack wrote them)."""
    raw, manifest = layout.read_manifest(bundle)
    part = next((p for p in manifest.parts if any(m.path in ATTESTATION_PATHS
                                                   for m in p.members)), None)
    wanted = {m.path: m for m in part.members if m.path in ATTESTATION_PATHS} if part else {}
    if not wanted:
        return {}
    if part.size > MAX_METADATA_SEGMENT:
        raise VerificationError(f"{bundle}: {part.name} segment of {part.size} bytes is over "
                                "the limit", "export the bundle again with fewer runs (--runs)")
    segment = next(s for s in layout.plan_segments(manifest, len(layout.header_segment(raw)))
                   if s.part == part.name)
    with open(bundle, "rb") as handle:
        handle.seek(segment.offset)
        data = handle.read(segment.size)
    if hashlib.sha256(data).hexdigest() != part.sha256:
        raise VerificationError(f"{bundle}: the {part.name} segment does not match the "
                                "manifest",
                                "the bundle is damaged; export or pull it again")
    found = {}
    with tarfile.open(fileobj=io.BytesIO(_decompress(data, manifest.compression) + END_OF_ARCHIVE)
                      ) as archive:
        for info in archive:
            member = wanted.get(info.name)
            if member is None or not info.isfile():
                continue
            content = archive.extractfile(info).read()
            if hashlib.sha256(content).hexdigest() != member.sha256:
                raise VerificationError(f"{bundle}: {info.name} does not match the manifest",
                                        "the bundle is damaged; export or pull it again")
            found[info.name] = content
    return found
