"""Signatures and attestations of artifacts in a registry, stored as OCI referrers of the
pushed manifest: the DSSE envelope, the SLSA provenance statement and the CycloneDX SBOM."""

from __future__ import annotations

from pathlib import Path

from samepack.errors import VerificationError
from samepack.oci.artifact import OCI_MANIFEST, Descriptor
from samepack.oci.pull import RemoteBundle, fetch_remote
from samepack.oci.reference import Reference
from samepack.oci.referrers import attach, list_referrers, referrer_payload
from samepack.oci.registry import Registry
from samepack.trust.check import Verdict, check_signature
from samepack.trust.dsse import MEDIA_TYPE as DSSE_MEDIA_TYPE
from samepack.trust.dsse import Envelope, parse_envelope
from samepack.trust.identity import identity_of_manifest
from samepack.trust.keys import PrivateKey
from samepack.trust.policy import TrustSettings
from samepack.trust.sbom import MEDIA_TYPE as SBOM_MEDIA_TYPE
from samepack.trust.sign import SignResult, bundle_statement, signed_envelope

SIGNATURE_TYPE = DSSE_MEDIA_TYPE
PROVENANCE_TYPE = "application/vnd.in-toto+json"
SBOM_TYPE = SBOM_MEDIA_TYPE


def subject_of(remote: RemoteBundle) -> Descriptor:
    return Descriptor(OCI_MANIFEST, remote.artifact.digest, len(remote.artifact.manifest_bytes))


def remote_envelopes(registry: Registry, remote: RemoteBundle, strict: bool = True
                     ) -> list[Envelope]:
    """The DSSE envelopes stored as referrers of the artifact; ``strict=False`` skips those
    that do not parse (when nothing asks for a check, a bad one must not stop a pull)."""
    ref = remote.reference
    found = []
    for referrer in list_referrers(registry, ref.repository, remote.artifact.digest,
                                   SIGNATURE_TYPE):
        try:
            found.append(parse_envelope(referrer_payload(registry, ref.repository, referrer),
                                        f"{ref}@{referrer.digest}"))
        except VerificationError:
            if strict:
                raise
    return found


def attach_signature(registry: Registry, remote: RemoteBundle, envelope: Envelope) -> str:
    return attach(registry, remote.reference.repository, subject_of(remote), SIGNATURE_TYPE,
                  envelope.to_bytes(), DSSE_MEDIA_TYPE)


def attach_attestations(registry: Registry, remote: RemoteBundle,
                        members: dict[str, bytes]) -> list[str]:
    """Attach the bundle's provenance statement and SBOM (members of its metadata part)."""
    from samepack.trust.provenance import PROVENANCE, SBOM

    stored = []
    for path, artifact_type, media_type in ((PROVENANCE, PROVENANCE_TYPE, PROVENANCE_TYPE),
                                            (SBOM, SBOM_TYPE, SBOM_MEDIA_TYPE)):
        if path in members:
            stored.append(attach(registry, remote.reference.repository, subject_of(remote),
                                 artifact_type, members[path], media_type,
                                 {"org.opencontainers.image.title": path.rsplit("/", 1)[-1]}))
    return stored


def sign_remote(ref: Reference, key: PrivateKey, *, insecure: bool = False) -> SignResult:
    """Sign the artifact at ``ref`` (its bundle manifest digest, the config's) and store the
    envelope as a referrer; a provenance referrer becomes the signed predicate."""
    import json

    registry = Registry.open(ref.host, insecure=insecure)
    remote = fetch_remote(registry, ref)
    identity = identity_of_manifest(remote.manifest_bytes)
    provenance = None
    for referrer in list_referrers(registry, ref.repository, remote.artifact.digest,
                                   PROVENANCE_TYPE):
        try:  # an unreadable provenance is not signed: the small bundle predicate is
            provenance = json.loads(referrer_payload(registry, ref.repository, referrer))
        except (ValueError, VerificationError):
            provenance = None
        break
    existing = remote_envelopes(registry, remote)
    statement = bundle_statement(identity, provenance)
    same = next((e for e in existing if e.payload == statement.to_bytes()), None)
    envelope = signed_envelope(statement, key, same)
    return SignResult(identity, envelope, stored=attach_signature(registry, remote, envelope))


def check_remote(registry: Registry, remote: RemoteBundle, settings: TrustSettings
                 ) -> tuple[Verdict, list[Envelope]]:
    envelopes = remote_envelopes(registry, remote, strict=settings.active)
    identity = identity_of_manifest(remote.manifest_bytes)
    return check_signature(identity, envelopes, str(remote.reference), settings), envelopes


def keep_signature(bundle: Path, envelopes: list[Envelope], verdict: Verdict) -> Path | None:
    """Write the envelope that verified (else the only one) beside a pulled bundle file."""
    from samepack.trust.sidecar import signature_path, write_signature

    chosen = None
    if verdict.trusted_by:
        chosen = next((e for e in envelopes if e.verified_keys(verdict.trusted_by)), None)
    elif len(envelopes) == 1:
        chosen = envelopes[0]
    if chosen is None:
        return None
    target = signature_path(bundle)
    write_signature(target, chosen)
    return target


def signature_to_push(bundle: Path) -> Envelope | None:
    """The signature beside a bundle file about to be pushed, refused if it is for another
    bundle (a stale signature must not travel with the artifact)."""
    from samepack.trust.identity import identity_of
    from samepack.trust.sidecar import read_signature, signature_path
    from samepack.trust.statement import parse_statement

    path = signature_path(bundle)
    envelope = read_signature(path)
    if envelope is None:
        return None
    named = parse_statement(envelope.payload, str(path)).manifest_digest()
    if named != identity_of(bundle).manifest_sha256:
        raise VerificationError(f"{path}: the signature is for another bundle than {bundle}",
                                "sign the bundle again (`samepack sign`) or remove the stale "
                                "signature file")
    return envelope


def publish_trust(registry: Registry, pinned: Reference, bundle: Path,
                  envelope: Envelope | None) -> list[str]:
    """After a push: attach the bundle's provenance and SBOM, and its signature if it has one;
    the referrers' digests."""
    from samepack.trust.members import attestation_members

    remote = fetch_remote(registry, pinned)
    stored = attach_attestations(registry, remote, attestation_members(bundle))
    if envelope is not None:
        stored.append(attach_signature(registry, remote, envelope))
    return stored
