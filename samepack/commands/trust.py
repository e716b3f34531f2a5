"""``samepack keygen`` and ``samepack sign``: key pairs and bundle signatures."""

from __future__ import annotations

from pathlib import Path

import click

from samepack.console import info
from samepack.console import result as result_line


@click.command("keygen")
@click.argument("prefix", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--ecdsa", is_flag=True, help="An ECDSA P-256 key (as cosign makes) instead of "
              "Ed25519.")
def keygen(prefix: Path, ecdsa: bool) -> None:
    """Write a signing key pair PREFIX.key (mode 0600) and PREFIX.pub.

    The private key is encrypted when $SAMEPACK_KEY_PASSWORD is set.
    """
    from samepack.trust.keys import ECDSA_P256, ED25519, generate_key_pair, load_public_key

    private, public = generate_key_pair(prefix, ECDSA_P256 if ecdsa else ED25519)
    info(f"wrote {private} (keep it secret) and {public} (give it to those who verify)")
    result_line(f"key id {load_public_key(public).keyid}")


@click.command("sign")
@click.argument("source")
@click.option("--key", "key_file", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="PEM private key.")
@click.option("--signature", "output", type=click.Path(dir_okay=False, path_type=Path),
              help="Signature file to write [default: BUNDLE.intoto.json beside the bundle].")
@click.option("--insecure", is_flag=True, help="Allow plain http for the registry.")
def sign(source: str, key_file: Path, output: Path | None, insecure: bool) -> None:
    """Sign a bundle FILE (or extracted DIR), or an artifact oci://HOST/REPO:TAG.

    The signature is a DSSE envelope over an in-toto Statement naming the bundle manifest's
    sha256 (and the file's): it holds after push, pull, re-export and import. For a file it
    is written beside it; in a registry it is stored as a referrer of the artifact.
    """
    from samepack.trust.keys import load_private_key

    key = load_private_key(key_file)
    if source.startswith("oci://"):
        from samepack.oci.reference import parse_reference
        from samepack.trust.remote import sign_remote

        signed = sign_remote(parse_reference(source), key, insecure=insecure)
        info(f"signed {signed.identity.ref} with key {key.keyid[:12]}; stored as referrer "
             f"{signed.stored}")
        result_line(signed.stored or "")
        return
    from samepack.trust.sign import sign_local

    signed = sign_local(Path(source), key, output)
    info(f"signed {signed.identity.ref} (manifest sha256:{signed.identity.manifest_sha256[:12]})"
         f" with key {key.keyid[:12]}")
    result_line(str(signed.written))
