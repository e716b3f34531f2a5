"""``samepack login``: check credentials against the registry, then store them like Docker."""

from __future__ import annotations

from samepack.oci.credentials import Credentials, normalise_host, save_credentials
from samepack.oci.reference import SCHEME
from samepack.oci.registry import Registry
from samepack.oci.transport import Transport


def login(host: str, username: str, password: str, *, insecure: bool = False) -> str:
    """Verify ``username``/``password`` with ``GET /v2/``; save them; return where they went."""
    host = normalise_host(host.removeprefix(SCHEME))
    credentials = Credentials(username, password, "the login")
    transport = Transport(host, insecure=insecure, credentials=credentials)
    transport.connect()
    Registry(transport).check_access()
    return save_credentials(host, credentials)
