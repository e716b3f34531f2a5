"""``oci://HOST[:PORT]/REPO[:TAG|@DIGEST]`` references: parsing, and which hosts may use plain http."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from samepack.errors import InputError

SCHEME = "oci://"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::[0-9]{1,5})?$")

HINT = "write it as oci://HOST[:PORT]/REPO[:TAG] or oci://HOST[:PORT]/REPO@sha256:DIGEST"


@dataclass(frozen=True)
class Reference:
    """A parsed artifact reference. ``tag`` and ``digest`` may both be None (no version given)."""

    host: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def version(self) -> str | None:
        """What to ask the registry's manifest endpoint for: the digest wins over the tag."""
        return self.digest or self.tag

    def with_tag(self, tag: str) -> "Reference":
        return Reference(self.host, self.repository, tag, None)

    def with_digest(self, digest: str) -> "Reference":
        return Reference(self.host, self.repository, None, digest)

    def __str__(self) -> str:
        text = f"{SCHEME}{self.host}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def is_oci_reference(text: str) -> bool:
    return text.startswith(SCHEME)


def parse_reference(text: str) -> Reference:
    """Parse ``oci://HOST[:PORT]/REPO[:TAG][@DIGEST]``; raise InputError naming the bad part."""
    if not is_oci_reference(text):
        raise InputError(f"not a registry reference: {text!r} (it must start with {SCHEME})", HINT)
    rest = text[len(SCHEME):]
    host, slash, path = rest.partition("/")
    if not slash or not path:
        raise InputError(f"registry reference {text!r} has no repository", HINT)
    if not _HOST.match(host):
        raise InputError(f"registry reference {text!r}: bad host {host!r}", HINT)
    path, _, digest = path.partition("@")
    name, tag = _split_tag(path)
    if not _REPOSITORY.match(name):
        raise InputError(f"registry reference {text!r}: bad repository {name!r} "
                         "(lower-case letters, digits and . _ - separated by /)", HINT)
    if tag is not None and not _TAG.match(tag):
        raise InputError(f"registry reference {text!r}: bad tag {tag!r}", HINT)
    if digest and not _DIGEST.match(digest):
        raise InputError(f"registry reference {text!r}: bad digest {digest!r} "
                         "(expected sha256: and 64 hex digits)", HINT)
    return Reference(host.lower(), name, tag, digest or None)


def _split_tag(path: str) -> tuple[str, str | None]:
    last_slash = path.rfind("/")
    colon = path.rfind(":")
    if colon > last_slash:
        return path[:colon], path[colon + 1:]
    return path, None


def host_name(host: str) -> str:
    """The host without its port (and without IPv6 brackets)."""
    if host.startswith("["):
        return host[1:host.index("]")]
    return host.rsplit(":", 1)[0] if ":" in host else host


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 — the only hosts plain http is allowed for by default."""
    name = host_name(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
