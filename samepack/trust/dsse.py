"""DSSE envelopes (github.com/secure-systems-lab/dsse, protocol v1), as pure functions.

The signature is over PAE(payloadType, payload), never over the JSON around it, so the envelope
may be re-serialised freely. Each signature carries the key id, which securesystemslib's
verifier needs to pair it with a key.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field

from samepack.errors import VerificationError
from samepack.trust.keys import PrivateKey, PublicKey

IN_TOTO_PAYLOAD = "application/vnd.in-toto+json"
MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """The DSSE pre-authentication encoding, the bytes that are signed."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Signature:
    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    payload: bytes
    payload_type: str = IN_TOTO_PAYLOAD
    signatures: tuple[Signature, ...] = field(default_factory=tuple)

    def to_bytes(self) -> bytes:
        data = {"payload": base64.b64encode(self.payload).decode("ascii"),
                "payloadType": self.payload_type,
                "signatures": [{"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode("ascii")}
                               for s in self.signatures]}
        return json.dumps(data, separators=(",", ":"), sort_keys=True).encode() + b"\n"

    def signed_by(self, key: PrivateKey) -> "Envelope":
        """This envelope with ``key``'s signature added (replacing an older one by that key)."""
        others = tuple(s for s in self.signatures if s.keyid != key.keyid)
        signature = Signature(key.keyid, key.sign(pae(self.payload_type, self.payload)))
        return Envelope(self.payload, self.payload_type, others + (signature,))

    def verified_keys(self, keys: list[PublicKey]) -> list[PublicKey]:
        """The keys (of ``keys``) with a valid signature here."""
        signed = pae(self.payload_type, self.payload)
        return [key for key in keys
                if any(key.verifies(s.sig, signed) for s in self.signatures
                       if s.keyid in (key.keyid, ""))]


def _b64(text: object, where: str, name: str) -> bytes:
    if not isinstance(text, str):
        raise _bad(where, f"field {name} is missing or not a string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        try:  # DSSE allows URL-safe base64 too
            return base64.urlsafe_b64decode(text)
        except (binascii.Error, ValueError):
            raise _bad(where, f"field {name} is not base64") from None


def parse_envelope(data: bytes, where: str) -> Envelope:
    """An envelope from its JSON; a one-line VerificationError naming ``where`` otherwise."""
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise _bad(where, "is not JSON") from None
    if not isinstance(raw, dict):
        raise _bad(where, "is not a JSON object")
    payload_type = raw.get("payloadType")
    if not isinstance(payload_type, str):
        raise _bad(where, "field payloadType is missing or not a string")
    signatures = raw.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise _bad(where, "field signatures is missing or empty")
    parsed = []
    for index, item in enumerate(signatures):
        if not isinstance(item, dict):
            raise _bad(where, f"signatures[{index}] is not an object")
        keyid = item.get("keyid", "")
        parsed.append(Signature(keyid if isinstance(keyid, str) else "",
                                _b64(item.get("sig"), where, f"signatures[{index}].sig")))
    return Envelope(_b64(raw.get("payload"), where, "payload"), payload_type, tuple(parsed))


def _bad(where: str, what: str) -> VerificationError:
    return VerificationError(f"{where}: DSSE envelope {what}",
                             "sign the bundle again with `samepack sign`")
