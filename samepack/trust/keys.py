"""Signing keys: PEM files read and written by ``cryptography``.

Ed25519 (``ed25519``) and ECDSA P-256 with SHA-256 (``ecdsa-sha2-nistp256``, the kind cosign
makes) are accepted, under the scheme names securesystemslib uses, so an envelope verifies there
too. A key's id is the sha256 of its public key's DER (SubjectPublicKeyInfo) encoding.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from samepack.errors import InputError

PASSWORD_ENV = "SAMEPACK_KEY_PASSWORD"
ED25519 = "ed25519"
ECDSA_P256 = "ecdsa-sha2-nistp256"
KEY_HINT = ("make a key pair with `samepack keygen NAME` (or `openssl genpkey -algorithm "
            "ed25519 -out NAME.key`)")


def _scheme(key: object, path: Path) -> str:
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return ED25519
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)) \
            and key.curve.name == "secp256r1":
        return ECDSA_P256
    raise InputError(f"{path}: unsupported key type {type(key).__name__}",
                     "use an Ed25519 or ECDSA P-256 key; " + KEY_HINT)


def _spki(public: object) -> bytes:
    return public.public_bytes(serialization.Encoding.DER,
                               serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class PublicKey:
    keyid: str
    scheme: str
    key: object
    source: str  # where it was read from, for messages

    def verifies(self, signature: bytes, data: bytes) -> bool:
        try:
            if self.scheme == ED25519:
                self.key.verify(signature, data)
            else:
                self.key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True

    def pem(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class PrivateKey:
    keyid: str
    scheme: str
    key: object

    def sign(self, data: bytes) -> bytes:
        if self.scheme == ED25519:
            return self.key.sign(data)
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))

    def public(self, source: str = "") -> PublicKey:
        return PublicKey(self.keyid, self.scheme, self.key.public_key(), source)


def keyid_of(public: object) -> str:
    return hashlib.sha256(_spki(public)).hexdigest()


def _read(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what} file", KEY_HINT) from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a {what} file", KEY_HINT) from None


def load_private_key(path: Path) -> PrivateKey:
    """A PEM private key; an encrypted one is opened with $SAMEPACK_KEY_PASSWORD."""
    data = _read(path, "private key")
    password = os.environ.get(PASSWORD_ENV)
    try:
        key = serialization.load_pem_private_key(data, password.encode() if password else None)
    except TypeError:
        raise InputError(f"{path}: the private key is encrypted",
                         f"set {PASSWORD_ENV} to its password") from None
    except ValueError:
        if password and b"ENCRYPTED" in data:
            raise InputError(f"{path}: the password in {PASSWORD_ENV} does not open this key",
                             f"set {PASSWORD_ENV} to the key's password") from None
        raise InputError(f"{path}: not a PEM private key", KEY_HINT) from None
    scheme = _scheme(key, Path(path))
    return PrivateKey(keyid_of(key.public_key()), scheme, key)


def load_public_key(path: Path) -> PublicKey:
    """A PEM public key (SubjectPublicKeyInfo, as ``samepack keygen`` and cosign write)."""
    data = _read(path, "public key")
    if b"PRIVATE KEY" in data:
        raise InputError(f"{path}: is a private key; verification takes the public key",
                         "give the .pub file written beside it by `samepack keygen`")
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise InputError(f"{path}: not a PEM public key", KEY_HINT) from None
    return PublicKey(keyid_of(key), _scheme(key, Path(path)), key, str(path))


def generate_key_pair(prefix: Path, scheme: str = ED25519) -> tuple[Path, Path]:
    """Write ``PREFIX.key`` (mode 0600, encrypted when $SAMEPACK_KEY_PASSWORD is set) and
    ``PREFIX.pub``; refuse to overwrite either."""
    from samepack.bundle.system.atomic import check_overwrite

    private_path, public_path = Path(f"{prefix}.key"), Path(f"{prefix}.pub")
    for target in (private_path, public_path):
        check_overwrite(target.absolute(), force=False)
    key = ed25519.Ed25519PrivateKey.generate() if scheme == ED25519 \
        else ec.generate_private_key(ec.SECP256R1())
    password = os.environ.get(PASSWORD_ENV)
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    encryption)
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private_pem)
    public_path.write_bytes(PrivateKey(keyid_of(key.public_key()), scheme, key).public().pem())
    return private_path, public_path
