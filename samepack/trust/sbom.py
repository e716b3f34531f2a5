"""A CycloneDX 1.6 JSON SBOM of a bundle's locked environment, rendered purely from the lock
files in its ``env`` part (hashed requirements.txt, pylock.toml, conda-lock.yml).

No clock and no random serial number: the same lock files give the same bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from samepack.scan.names import canonical_name

SPEC_VERSION = "1.6"
MEDIA_TYPE = "application/vnd.cyclonedx+json"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")
_HASH = re.compile(r"--hash[= ]sha256:([0-9a-f]{64})")


@dataclass(frozen=True)
class Component:
    manager: str  # pypi | conda
    name: str
    version: str
    hashes: tuple[str, ...] = ()  # sha256 hex of the files the lock allows

    @property
    def purl(self) -> str:
        return f"pkg:{self.manager}/{self.name}@{self.version}"

    def as_json(self) -> dict:
        data = {"bom-ref": self.purl, "name": self.name, "purl": self.purl, "type": "library",
                "version": self.version}
        if self.hashes:
            data["hashes"] = [{"alg": "SHA-256", "content": h} for h in sorted(set(self.hashes))]
        return data


def from_requirements(text: str) -> list[Component]:
    """Pins of a compiled requirements file, with the hashes on their continuation lines."""
    found = []
    for line in re.sub(r"\\\s*\n", " ", text).splitlines():
        line = line.split(" #", 1)[0].strip()
        match = _PIN.match(line)
        if match:
            found.append(Component("pypi", canonical_name(match.group(1)), match.group(2),
                                   tuple(_HASH.findall(line))))
    return found


def from_pylock(text: str) -> list[Component]:
    """Packages of a PEP 751 ``pylock.toml``."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    data = tomllib.loads(text)
    components = []
    for package in data.get("packages", []):
        if not isinstance(package, dict) or "name" not in package or "version" not in package:
            continue
        files = list(package.get("wheels", [])) + ([package["sdist"]] if "sdist" in package else [])
        hashes = tuple(f["hashes"]["sha256"] for f in files
                       if isinstance(f, dict) and "sha256" in f.get("hashes", {}))
        components.append(Component("pypi", canonical_name(package["name"]),
                                    str(package["version"]), hashes))
    return components


def from_conda_lock(text: str) -> list[Component]:
    """Packages of a ``conda-lock.yml`` (conda and pip ones)."""
    from samepack.program.yamlsource import parse_yaml

    data = parse_yaml(text, "conda-lock.yml").data or {}  # from a bundle: bounded
    components = []
    for package in data.get("package", []) if isinstance(data, dict) else []:
        if not isinstance(package, dict) or "name" not in package:
            continue
        manager = "pypi" if package.get("manager") == "pip" else "conda"
        sha = (package.get("hash") or {}).get("sha256")
        name = canonical_name(package["name"]) if manager == "pypi" else package["name"]
        components.append(Component(manager, name, str(package.get("version", "")),
                                    (sha,) if sha else ()))
    return components


READERS = {"requirements.txt": from_requirements, "requirements.lock": from_requirements,
           "pylock.toml": from_pylock, "conda-lock.yml": from_conda_lock,
           "conda-lock.samepack.yml": from_conda_lock}


def lock_components(lock_files: dict[str, str]) -> list[Component]:
    """Every locked package of the given ``{file name: text}``, one per purl, sorted."""
    merged: dict[str, Component] = {}
    for name, text in sorted(lock_files.items()):
        reader = READERS.get(name.rsplit("/", 1)[-1])
        if reader is None and re.fullmatch(r"pylock\.[^/]+\.toml", name.rsplit("/", 1)[-1]):
            reader = from_pylock
        for component in reader(text) if reader else []:
            known = merged.get(component.purl)
            hashes = tuple(sorted(set((known.hashes if known else ()) + component.hashes)))
            merged[component.purl] = Component(component.manager, component.name,
                                               component.version, hashes)
    return [merged[purl] for purl in sorted(merged)]


def render_sbom(program: str, version: str, tool_version: str, created: str,
                components: list[Component]) -> bytes:
    """The SBOM's exact bytes (sorted keys, two-space indent)."""
    metadata: dict = {
        "component": {"bom-ref": f"samepack:{program}@{version}", "name": program,
                      "type": "application", "version": version},
        "tools": {"components": [{"name": "samepack", "type": "application",
                                  "version": tool_version}]},
    }
    if created:
        metadata["timestamp"] = created
    bom = {"$schema": f"http://cyclonedx.org/schema/bom-{SPEC_VERSION}.schema.json",
           "bomFormat": "CycloneDX", "components": [c.as_json() for c in components],
           "metadata": metadata, "specVersion": SPEC_VERSION, "version": 1}
    return json.dumps(bom, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"
