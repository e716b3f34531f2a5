"""``samepack sign``: a DSSE envelope over an in-toto Statement naming the bundle's digests.

The predicate is the bundle's own SLSA provenance when it carries one (so the signature also
vouches for what built it), else a small samepack predicate naming the program.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from samepack.trust.dsse import Envelope
from samepack.trust.identity import BundleIdentity
from samepack.trust.keys import PrivateKey
from samepack.trust.statement import BUNDLE_PREDICATE, Statement


@dataclass(frozen=True)
class SignResult:
    identity: BundleIdentity
    envelope: Envelope
    written: Path | None = None  # the sidecar file, for a bundle on disk
    stored: str | None = None    # the referrer's digest, for an artifact in a registry


def bundle_statement(identity: BundleIdentity, provenance: dict | None) -> Statement:
    if provenance and isinstance(provenance.get("predicate"), dict):
        return Statement(identity.subjects(), str(provenance.get("predicateType")),
                         provenance["predicate"])
    predicate = {"program": {"name": identity.name, "version": identity.version}}
    return Statement(identity.subjects(), BUNDLE_PREDICATE, predicate)


def signed_envelope(statement: Statement, key: PrivateKey,
                    existing: Envelope | None = None) -> Envelope:
    """An envelope of ``statement`` signed by ``key``; signatures already made over the same
    payload by other keys are kept."""
    payload = statement.to_bytes()
    base = existing if existing and existing.payload == payload else Envelope(payload)
    return base.signed_by(key)


def sign_local(source: Path, key: PrivateKey, output: Path | None = None) -> SignResult:
    """Verify a bundle file (or directory) completely, then write its signature beside it."""
    from samepack.bundle.read.importer import verify_any
    from samepack.bundle.read.safety import Limits
    from samepack.trust.identity import file_sha256, identity_of_manifest
    from samepack.trust.provenance import provenance_of_verified
    from samepack.trust.sidecar import read_signature, signature_path, write_signature

    source = Path(source)
    collector = _MemberCollector()
    verified = verify_any(source, Limits(), collector.open)
    identity = identity_of_manifest(verified.manifest_bytes)
    if source.is_file():
        identity = replace(identity, file_name=source.name, file_sha256=file_sha256(source))
    target = Path(output) if output else signature_path(source)
    existing = read_signature(target) if target.is_file() else None
    envelope = signed_envelope(bundle_statement(identity, provenance_of_verified(collector.found)),
                               key, existing)
    write_signature(target, envelope)
    return SignResult(identity, envelope, written=target)


class _MemberCollector:
    """An ``open_sink`` for the bundle reader that keeps only the attestation members."""

    def __init__(self) -> None:
        self.found: dict[str, bytes] = {}

    def open(self, member):
        from samepack.trust.provenance import ATTESTATION_PATHS

        if member.path not in ATTESTATION_PATHS:
            return None
        return _Keep(self.found, member.path)


class _Keep:
    def __init__(self, found: dict[str, bytes], path: str) -> None:
        self.found, self.path, self.chunks = found, path, []

    def write(self, data) -> None:
        self.chunks.append(bytes(data))

    def close(self) -> None:
        self.found[self.path] = b"".join(self.chunks)
