"""Where a bundle file's signature lives: ``BUNDLE.intoto.json`` beside it, one DSSE envelope
(the file ``cosign verify-blob-attestation --signature`` takes)."""

from __future__ import annotations

import os
from pathlib import Path

from samepack.trust.dsse import Envelope, parse_envelope

SUFFIX = ".intoto.json"


def signature_path(bundle: Path) -> Path:
    bundle = Path(bundle)
    return bundle.with_name(bundle.name.rstrip("/") + SUFFIX)


def read_signature(path: Path) -> Envelope | None:
    """The envelope at ``path``, or None when there is no such file."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    return parse_envelope(data, str(path))


def write_signature(path: Path, envelope: Envelope) -> None:
    """Write the envelope atomically (temp file beside it, then rename)."""
    from samepack.bundle.system.atomic import temp_path

    path = Path(path).absolute()
    temp = temp_path(path)
    try:
        temp.write_bytes(envelope.to_bytes())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
