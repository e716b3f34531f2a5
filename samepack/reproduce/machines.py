"""What differs between the machine a run was recorded on and this one: Python, platform,
CPUs, memory, GPUs (from the run records' ``host``) and package versions (the lock's pins
against what the re-run's interpreter has installed). Pure: dictionaries in, rows out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from samepack.scan.names import canonical_name

HOST_FIELDS = ["python", "platform", "cpus", "memory", "gpus", "hostname"]
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;\\]+)")


@dataclass(frozen=True)
class Difference:
    what: str
    recorded: str
    here: str


def _show(key: str, value: Any) -> str:
    if value is None or value == [] or value == "":
        return "-"
    if key == "memory" and isinstance(value, (int, float)):
        return f"{value / 2**30:.1f} GiB"
    if key == "gpus" and isinstance(value, list):
        return ", ".join(str(g.get("name", g)) if isinstance(g, dict) else str(g)
                         for g in value) or "none"
    return str(value)


def host_differences(recorded: dict[str, Any], here: dict[str, Any]) -> list[Difference]:
    """Rows for the host fields that differ (known fields first, then any others, sorted)."""
    keys = HOST_FIELDS + sorted((set(recorded) | set(here)) - set(HOST_FIELDS))
    rows = []
    for key in keys:
        before, after = _show(key, recorded.get(key)), _show(key, here.get(key))
        if before != after:
            rows.append(Difference(key, before, after))
    return rows


def lock_pins(text: str) -> dict[str, str]:
    """``name -> version`` for every ``name==version`` line of a requirements lock."""
    pins = {}
    for line in text.splitlines():
        match = _PIN.match(line)
        if match:
            pins[canonical_name(match.group(1))] = match.group(2)
    return pins


def package_differences(pinned: dict[str, str], installed: dict[str, str]) -> list[Difference]:
    """Packages whose installed version differs from the lock (or that are not installed)."""
    rows = []
    for name in sorted(pinned):
        have = installed.get(name)
        if have != pinned[name]:
            rows.append(Difference(f"package {name}", pinned[name], have or "not installed"))
    return rows
