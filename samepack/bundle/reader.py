"""Reading and verifying a bundle file in one pass: every member against the manifest and the
safety rules, every segment against its digest, with each member handed to a sink (a staging
directory, a memory buffer, or nothing for ``verify``)."""

from __future__ import annotations

import hashlib
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from samepack.bundle.layout import header_segment, open_bundle, read_manifest_from, trailer_segment
from samepack.bundle.manifest import Manifest, Member
from samepack.bundle.safety import Limits, check_manifest, check_name, name_key, reject
from samepack.bundle.stream import Decoder, RawReader
from samepack.bundle.tarblocks import padding
from samepack.bundle.tarstream import Header, headers
from samepack.errors import VerificationError

_READ = 1024 * 1024


class MemberSink(Protocol):
    def write(self, data: bytes) -> object: ...

    def close(self) -> object: ...


OpenSink = Callable[[Member], "MemberSink | None"]


@dataclass
class VerifiedBundle:
    manifest: Manifest
    manifest_bytes: bytes


def _describe_type(info: tarfile.TarInfo | None) -> str | None:
    if info is None:  # a canonical regular-file header
        return None
    if info.issym() or info.islnk():
        return f"is a link to {info.linkname!r}; bundles hold regular files only"
    if info.ischr() or info.isblk():
        return "is a device node"
    if info.isfifo():
        return "is a FIFO"
    if info.isdir():
        return "is a directory entry; bundles hold regular files only"
    if not info.isreg():
        return f"has unsupported tar type {info.type!r}"
    return None


class _Expected:
    """The manifest's members in the order they must appear."""

    def __init__(self, manifest: Manifest) -> None:
        self.order = manifest.members()
        self.by_key = {name_key(m.path): m for m in self.order}
        self.index = 0
        self.seen: set[str] = set()

    def claim(self, path: str) -> Member:
        key = name_key(path)
        if key in self.seen:
            raise reject(path, "duplicate member")
        member = self.by_key.get(key)
        if member is None or member.path != path:
            raise reject(path, "not listed in the manifest")
        if self.index >= len(self.order) or self.order[self.index] is not member:
            raise reject(path, "out of the manifest's order")
        self.seen.add(key)
        self.index += 1
        return member

    def check_complete(self) -> None:
        if self.index < len(self.order):
            raise reject(self.order[self.index].path, "listed in the manifest but missing")


def _check_member(info: Header, expected: _Expected) -> Member:
    check_name(info.name)
    problem = _describe_type(info.info)
    if problem:
        raise reject(info.name, problem)
    if info.mode & 0o7000:
        raise reject(info.name, f"mode {info.mode:04o} has setuid, setgid or sticky bits")
    member = expected.claim(info.name)
    if info.size != member.size:
        raise reject(info.name, f"size {info.size} differs from the manifest's {member.size}")
    if info.mode & 0o777 != member.mode:
        raise reject(info.name, f"mode {info.mode:04o} differs from the manifest's "
                                f"{member.mode:04o}")
    return member


def _copy_member(decoder: Decoder, member: Member, sink: MemberSink | None) -> None:
    digest, left = hashlib.sha256(), member.size
    try:
        while left:
            data = decoder.read(min(_READ, left))
            if not data:
                raise VerificationError(f"the bundle is truncated inside {member.path!r}")
            digest.update(data)
            if sink is not None:
                sink.write(data)
            left -= len(data)
    finally:
        if sink is not None:
            sink.close()
    decoder.read_exact(len(padding(member.size)), member.path)
    if digest.hexdigest() != member.sha256:
        raise reject(member.path, "sha256 differs from the manifest's")


def _stream_members(decoder: Decoder, manifest: Manifest, open_sink: OpenSink | None) -> None:
    expected = _Expected(manifest)
    try:
        for info in headers(decoder):
            member = _check_member(info, expected)
            _copy_member(decoder, member, open_sink(member) if open_sink else None)
    except (tarfile.TarError, EOFError) as error:
        raise VerificationError(f"the bundle's tar stream is damaged ({error})",
                                hint="download it again") from None
    expected.check_complete()


def _check_segments(raw: RawReader, manifest: Manifest, manifest_bytes: bytes,
                    digests: list[str]) -> None:
    header = header_segment(manifest_bytes, manifest.compression)
    trailer = trailer_segment(manifest.compression)
    wanted = ([hashlib.sha256(header).hexdigest()] + [p.sha256 for p in manifest.parts]
              + [hashlib.sha256(trailer).hexdigest()])
    names = ["header"] + [p.name for p in manifest.parts] + ["trailer"]
    end = raw.bounds[-1]
    if raw.offset > end:
        raise VerificationError(f"{raw.offset - end} bytes follow the end of the bundle "
                                "(another archive appended?)", hint="the file was altered")
    for name, got, want in zip(names, digests, wanted):
        if got != want:
            raise VerificationError(f"the {name} segment does not match the manifest "
                                    "(size or sha256)", hint="the file was altered or damaged")


def _check_length(handle, manifest: Manifest, manifest_bytes: bytes, expected: int) -> None:
    """A bundle samepack wrote (canonical header) but shorter than its manifest describes was
    cut short: say so before reading members (zstd readers end quietly at a cut)."""
    size = os.fstat(handle.fileno()).st_size
    header = header_segment(manifest_bytes, manifest.compression)
    if size < expected and os.pread(handle.fileno(), len(header), 0) == header:
        raise VerificationError(f"the bundle is truncated: {size} bytes, the manifest "
                                f"describes {expected}", hint="download it again")


def _expanded_bound(manifest: Manifest, manifest_bytes: bytes) -> int:
    """The most bytes a faithful tar stream of this manifest can expand to (headers, pax
    records and padding included); anything more is not what the manifest describes."""
    overhead = sum(2560 + 2 * len(m.path.encode()) for m in manifest.members())
    return len(manifest_bytes) + 4096 + manifest.total_size + overhead


def _bounds(manifest: Manifest, manifest_bytes: bytes) -> list[int]:
    bounds = [0, len(header_segment(manifest_bytes, manifest.compression))]
    for part in manifest.parts:
        bounds.append(bounds[-1] + part.size)
    bounds.append(bounds[-1] + len(trailer_segment(manifest.compression)))
    return bounds


def read_bundle(path: Path, limits: Limits = Limits(),
                open_sink: OpenSink | None = None) -> VerifiedBundle:
    """Verify the bundle at ``path`` completely, handing each member's bytes to
    ``open_sink(member)`` (which may return None to skip). Raises VerificationError on the
    first defect; a sink's output is only trustworthy if this returns."""
    handle, compression = open_bundle(Path(path))
    with handle:
        raw = RawReader(handle)
        decoder = Decoder(raw, compression, max_output=limits.max_size + (1 << 30),
                          max_ratio=limits.max_ratio, ratio_floor=limits.ratio_floor)
        manifest_bytes = read_manifest_from(decoder)
        manifest = Manifest.from_bytes(manifest_bytes)
        check_manifest(manifest, limits)
        decoder.max_output = _expanded_bound(manifest, manifest_bytes)
        bounds = _bounds(manifest, manifest_bytes)
        _check_length(handle, manifest, manifest_bytes, bounds[-1])
        raw.set_ranges(bounds)
        _stream_members(decoder, manifest, open_sink)
        _check_segments(raw, manifest, manifest_bytes, raw.finish())
    return VerifiedBundle(manifest, manifest_bytes)

