"""Signature checks at the edges: a bundle file or directory on disk, and an artifact in a
registry (its signatures stored as referrers)."""

from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

from samepack.trust.policy import TrustSettings, trust_settings

if TYPE_CHECKING:
    from samepack.trust.check import Verdict


def check_local(source: Path, key_files: tuple[Path, ...] = (),
                signature: Path | None = None,
                settings: TrustSettings | None = None) -> Verdict:
    """Check the signature of a bundle FILE or DIR (``SOURCE.intoto.json`` unless
    ``signature`` names the file) against ``--key`` files and the policy."""
    from samepack.trust.check import check_signature
    from samepack.trust.identity import identity_of
    from samepack.trust.sidecar import read_signature, signature_path

    settings = settings or trust_settings(key_files)
    source = Path(source)
    identity = identity_of(source)
    envelope_path = Path(signature) if signature else signature_path(source)
    if signature and not envelope_path.is_file():
        from samepack.errors import InputError

        raise InputError(f"{envelope_path}: no such signature file",
                         "give the .intoto.json written by `samepack sign`")
    envelope = read_signature(envelope_path)
    return check_signature(identity, [envelope] if envelope else [], str(source), settings)


def enforce_policy(source: Path) -> None:
    """For imports that take no ``--key`` (deploy BUNDLE, reproduce BUNDLE, pull --import,
    the library call): refuse a bundle the policy file does not accept. Without a policy this
    reads nothing but the policy's path."""
    settings = trust_settings()
    if settings.active:
        check_local(source, settings=settings)
