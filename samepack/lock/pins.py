"""Reading pins back out of a hashed requirements file (for results, drift checks, env create)."""

from __future__ import annotations

import re

from samepack.lock.model import Pin
from samepack.scan.names import canonical_name

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def pins_from_requirements(text: str) -> list[Pin]:
    """``name==version`` lines of a compiled requirements file, sorted by name."""
    pins = {}
    for line in text.splitlines():
        match = _PIN.match(line.strip())
        if match:
            name = canonical_name(match.group(1))
            pins[name] = Pin(name, match.group(3))
    return [pins[name] for name in sorted(pins)]


def installed_constraints() -> str:
    """``name==version`` for every distribution installed in the active environment."""
    from importlib import metadata

    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and not _is_local_build(dist):
            found.setdefault(canonical_name(name), dist.version)
    return "".join(f"{name}=={found[name]}\n" for name in sorted(found))


def _is_local_build(dist) -> bool:
    """Editable or directly-referenced installs cannot be pinned against an index."""
    direct = dist.read_text("direct_url.json")
    return bool(direct)
