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
from samepack.bundle.tarblocks import BLOCK, padding
from samepack.bundle.tarstream import Header, canonical_block, read_header
from samepack.errors import VerificationError

_READ = 1024 * 1024
_SMALL = 1024 * 1024  # members up to this size are hashed and handed over whole


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
    """The manifest's members in the order they must appear.

    Each member is claimed in turn. The lookup by collision key (``name_key``) that tells an
    unlisted, repeated or misplaced name apart is built only when a header is not the
    canonical one of the next member; names are unique by key (``check_manifest``), so a
    member's key has been seen exactly when its position is before ``index``.
    """

    def __init__(self, manifest: Manifest) -> None:
        self.order = manifest.members()
        self.index = 0
        self._positions: dict[str, int] | None = None

    def next_block(self) -> bytes | None:
        """The canonical header of the next member, if it has one (None when all came)."""
        if self.index >= len(self.order):
            return None
        member = self.order[self.index]
        return canonical_block(member.path, member.size, member.mode)

    def take_next(self) -> Member:
        """The next member, whose canonical header the stream showed."""
        self.index += 1
        return self.order[self.index - 1]

    def claim(self, path: str) -> Member:
        if self._positions is None:
            self._positions = {name_key(m.path): i for i, m in enumerate(self.order)}
        position = self._positions.get(name_key(path))
        if position is not None and position < self.index:
            raise reject(path, "duplicate member")
        if position is None or self.order[position].path != path:
            raise reject(path, "not listed in the manifest")
        if position != self.index:
            raise reject(path, "out of the manifest's order")
        return self.take_next()

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


def _next_member(decoder: Decoder, expected: _Expected, first: bool) -> Member | None:
    """The manifest entry of the next tar member, its header checked; None at the end.

    A header that is byte for byte the canonical one of the next listed member passes every
    check at once (name, type, mode, size, order); any other goes through full parsing.
    """
    block = expected.next_block()
    if block is not None and decoder.next_is(block):
        return expected.take_next()
    header = read_header(decoder, first)
    return None if header is None else _check_member(header, expected)


def _take_small(decoder: Decoder, member: Member, open_sink: OpenSink | None) -> None:
    """A member small enough to hold: hashed in place in the decoded stream, then handed
    over whole (``open_sink.whole`` takes a view, other sinks a copy)."""
    size = member.size
    data = decoder.view(size + (-size % BLOCK))
    if len(data) < size:
        raise VerificationError(f"the bundle is truncated inside {member.path!r}")
    if len(data) < size + (-size % BLOCK):
        raise VerificationError(f"the bundle is truncated inside {member.path}",
                                hint="download it again")
    content = data[:size]
    if hashlib.sha256(content).hexdigest() != member.sha256:
        raise reject(member.path, "sha256 differs from the manifest's")
    if open_sink is None:
        return
    whole = getattr(open_sink, "whole", None)
    if whole is not None:
        whole(member, content)
        return
    sink = open_sink(member)
    if sink is not None:
        try:
            sink.write(bytes(content))
        finally:
            sink.close()


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
    first = True
    try:
        while (member := _next_member(decoder, expected, first)) is not None:
            first = False
            if member.size <= _SMALL:
                _take_small(decoder, member, open_sink)
            else:
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
    ``open_sink(member)`` (which may return None to skip) or, for members up to 1 MiB when
    the sink has it, to ``open_sink.whole(member, view)`` once they are verified. Raises
    VerificationError on the first defect; a sink's output is only trustworthy if this
    returns."""
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

