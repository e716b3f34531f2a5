"""Verifying an already-extracted bundle directory (``tar -xzf`` output) with the same rules
as a bundle file: every file listed, matching size, mode and sha256; no links, no special
files, nothing extra. Segment digests cannot be checked (there are no segments)."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from samepack.bundle.format.index import attach_from_folder
from samepack.bundle.format.manifest import MANIFEST_NAME, MAX_MANIFEST_BYTES, Manifest
from samepack.bundle.read.reader import OpenSink, VerifiedBundle, hand_over_verified, stream_order
from samepack.bundle.read.safety import Limits, check_manifest, reject
from samepack.errors import InputError, VerificationError

_READ = 1024 * 1024


def _listing(root: Path) -> dict[str, os.stat_result]:
    """Every entry under ``root`` (POSIX relative path -> lstat), directories excluded."""
    found = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            full = Path(directory) / name
            info = os.lstat(full)
            relative = full.relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                raise reject(relative, "is a symbolic link; bundles hold regular files only")
            if stat.S_ISDIR(info.st_mode):
                continue
            if not stat.S_ISREG(info.st_mode):
                raise reject(relative, "is not a regular file (device, FIFO or socket)")
            found[relative] = info
    return found


def _read_manifest(root: Path) -> bytes:
    file = root / MANIFEST_NAME
    if not file.is_file() or file.is_symlink():
        raise InputError(f"{root}: no {MANIFEST_NAME} in this directory",
                         hint="give a bundle file, or a directory a bundle was extracted into")
    if file.stat().st_size > MAX_MANIFEST_BYTES:
        raise VerificationError(f"{file}: larger than any manifest may be")
    return file.read_bytes()


def read_directory(root: Path, limits: Limits = Limits(),
                   open_sink: OpenSink | None = None) -> VerifiedBundle:
    """Verify an extracted bundle in ``root``, handing each member to ``open_sink``."""
    root = Path(root)
    raw = _read_manifest(root)
    manifest = Manifest.from_bytes(raw)
    attach_from_folder(manifest, root)
    check_manifest(manifest, limits)
    present = _listing(root)
    present.pop(MANIFEST_NAME, None)
    for member in stream_order(manifest):
        info = present.pop(member.path, None)
        if info is None:
            raise reject(member.path, "listed in the manifest but missing")
        if info.st_size != member.size:
            raise reject(member.path, f"size {info.st_size} differs from the manifest's "
                                      f"{member.size}")
        if bool(info.st_mode & 0o111) != bool(member.mode & 0o111) or info.st_mode & 0o7000:
            raise reject(member.path, f"mode {stat.S_IMODE(info.st_mode):04o} differs from the "
                                      f"manifest's {member.mode:04o}")
        _copy(root / member.path, member, open_sink)
    if present:
        raise reject(sorted(present)[0], "not listed in the manifest")
    return VerifiedBundle(manifest, raw)


def _copy(file: Path, member, open_sink: OpenSink | None) -> None:
    """Hash the file and hand it to the sink: whole when it is small and the sink takes
    whole members (checked before it is handed over), else as it is read."""
    whole = getattr(open_sink, "whole", None)
    if whole is not None and member.size <= _READ:
        with open(file, "rb") as handle:
            data = handle.read(_READ + 1)
        hand_over_verified(member, data, whole)
        return
    _stream(file, member, open_sink(member) if open_sink else None)


def _stream(file: Path, member, sink) -> None:
    digest = hashlib.sha256()
    try:
        with open(file, "rb") as handle:
            while data := handle.read(_READ):
                digest.update(data)
                if sink is not None:
                    sink.write(data)
    finally:
        if sink is not None:
            sink.close()
    if digest.hexdigest() != member.sha256:
        raise reject(member.path, "sha256 differs from the manifest's")
