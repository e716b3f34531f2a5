"""The verdict on one bundle's signature: trusted, unsigned (and allowed), or refused."""

from __future__ import annotations

from dataclasses import dataclass, field

from samepack.errors import VerificationError
from samepack.trust.dsse import IN_TOTO_PAYLOAD, Envelope
from samepack.trust.identity import BundleIdentity
from samepack.trust.keys import PublicKey
from samepack.trust.policy import TrustSettings
from samepack.trust.statement import Statement, parse_statement


@dataclass(frozen=True)
class Verdict:
    signed: bool
    trusted_by: list[PublicKey] = field(default_factory=list)
    statement: Statement | None = None

    def describe(self) -> str:
        if self.trusted_by:
            names = ", ".join(f"{k.source or 'key'} ({k.keyid[:12]})" for k in self.trusted_by)
            return f"signature ok: signed by {names}"
        if self.signed:
            return "signed, but not checked (give --key PUB or a policy to check it)"
        return "not signed"


def _key_names(keys: list[PublicKey]) -> str:
    return ", ".join(k.source or k.keyid[:12] for k in keys)


def check_signature(identity: BundleIdentity, envelopes: list[Envelope], where: str,
                    settings: TrustSettings) -> Verdict:
    """Refuse (one-line VerificationError) unless the policy is met: with keys, one envelope
    must be signed by one of them and name this bundle's manifest digest."""
    if not envelopes:
        if settings.required:
            why = (f"the policy {settings.policy} requires one" if settings.policy_required
                   else "--key asks for one")
            raise VerificationError(f"{where}: {identity.ref} has no signature, and {why}",
                                    "ask its maker to sign it (`samepack sign BUNDLE --key KEY`)"
                                    " and to send the .intoto.json file beside the bundle")
        return Verdict(False)
    if not settings.keys:
        return Verdict(True)
    signers: list[str] = []
    for envelope in envelopes:
        signers += [s.keyid[:12] for s in envelope.signatures]
        trusted = envelope.verified_keys(settings.keys)
        if not trusted:
            continue
        if envelope.payload_type != IN_TOTO_PAYLOAD:
            raise VerificationError(f"{where}: the signed payload is {envelope.payload_type!r}, "
                                    "not an in-toto Statement", "sign it with `samepack sign`")
        statement = parse_statement(envelope.payload, where)
        if statement.manifest_digest() != identity.manifest_sha256:
            raise VerificationError(
                f"{where}: the signature is for another bundle (manifest sha256:"
                f"{(statement.manifest_digest() or 'none')[:12]}, this one sha256:"
                f"{identity.manifest_sha256[:12]})",
                "the bundle changed after it was signed: do not use it; get the signed one "
                "again from its maker")
        return Verdict(True, trusted, statement)
    raise VerificationError(f"{where}: {identity.ref} is not signed by any trusted key "
                            f"({_key_names(settings.keys)}); signed by key id "
                            f"{', '.join(signers) or 'none'}",
                            "verify with its maker's public key (--key PUB), or add that key "
                            "to the policy")
