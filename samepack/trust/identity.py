"""What a bundle's digest is: the sha256 of its manifest bytes (and of the file, for a file).

Reading an identity checks nothing but the manifest's shape; ``samepack verify`` and ``import``
check that every part and member matches that manifest, so a trusted manifest digest vouches
for the whole bundle.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from samepack.bundle.format.manifest import MANIFEST_NAME, Manifest
from samepack.errors import InputError
from samepack.trust.statement import Subject

_BLOCK = 4 * 1024 * 1024


@dataclass(frozen=True)
class BundleIdentity:
    name: str
    version: str
    manifest_sha256: str
    file_name: str | None = None
    file_sha256: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    def subjects(self) -> tuple[Subject, ...]:
        subjects = [Subject(MANIFEST_NAME, self.manifest_sha256)]
        if self.file_name and self.file_sha256:
            subjects.append(Subject(self.file_name, self.file_sha256))
        return tuple(subjects)


def identity_of_manifest(manifest_bytes: bytes) -> BundleIdentity:
    manifest = Manifest.from_bytes(manifest_bytes)
    return BundleIdentity(manifest.name, manifest.version,
                          hashlib.sha256(manifest_bytes).hexdigest())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def identity_of(path: Path, with_file_digest: bool = False) -> BundleIdentity:
    """The identity of a bundle file or extracted bundle directory."""
    path = Path(path)
    if path.is_dir():
        manifest = path / MANIFEST_NAME
        if not manifest.is_file():
            raise InputError(f"{path}: no {MANIFEST_NAME} in this directory",
                             "give a bundle file or a directory extracted from one")
        return identity_of_manifest(manifest.read_bytes())
    if not path.is_file():
        raise InputError(f"{path}: no such bundle file or directory",
                         "give the path of a .tgz written by `samepack export`")
    from samepack.bundle.format.layout import read_manifest

    raw, _ = read_manifest(path)
    identity = identity_of_manifest(raw)
    if not with_file_digest:
        return identity
    return BundleIdentity(identity.name, identity.version, identity.manifest_sha256,
                          path.name, file_sha256(path))
