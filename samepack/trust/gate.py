"""Signature checks at the edges: a bundle file or directory on disk, and an artifact in a
registry (its signatures stored as referrers)."""

from __future__ import annotations

from pathlib import Path

from samepack.trust.check import Verdict, check_signature
from samepack.trust.identity import identity_of
from samepack.trust.policy import TrustSettings, trust_settings
from samepack.trust.sidecar import read_signature, signature_path


def check_local(source: Path, key_files: tuple[Path, ...] = (),
                signature: Path | None = None,
                settings: TrustSettings | None = None) -> Verdict:
    """Check the signature of a bundle FILE or DIR (``SOURCE.intoto.json`` unless
    ``signature`` names the file) against ``--key`` files and the policy."""
    settings = settings or trust_settings(key_files)
    source = Path(source)
    identity = identity_of(source)
    envelope_path = Path(signature) if signature else signature_path(source)
    if signature and not envelope_path.is_file():
        from samepack.errors import InputError

        raise InputError(f"{envelope_path}: no such signature file",
                         "give the .intoto.json written by `samepack sign`")
    envelope = read_signature(envelope_path) if (signature or settings.active
                                                 or envelope_path.is_file()) else None
    return check_signature(identity, [envelope] if envelope else [], str(source), settings)
