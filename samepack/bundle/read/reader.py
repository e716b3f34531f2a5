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

from samepack.bundle.format.index import index_member
from samepack.bundle.format.layout import (attach_indexes, header_segment, named_in,
                                           open_bundle, read_manifest_from, trailer_segment)
from samepack.bundle.format.manifest import Manifest, Member
from samepack.bundle.read.safety import Limits, check_manifest, check_name, name_key, reject
from samepack.bundle.read.stream import Decoder, RawReader
from samepack.bundle.format.tarblocks import BLOCK, padding
from samepack.bundle.format.tarstream import Header, canonical_block, read_header
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


def stream_order(manifest: Manifest) -> list[Member]:
    """Every member in the order of the tar stream: each part's members, then (format 3) its
    index."""
    order: list[Member] = []
    for part in manifest.parts:
        order += part.listed()
        if part.index is not None:
            order.append(index_member(part.name, part.index))
    return order


class _Expected:
    """The manifest's members (and the parts' indexes) in the order they must appear.

    Each member is claimed in turn. The lookup by collision key (``name_key``) that tells an
    unlisted, repeated or misplaced name apart is built only when a header is not the
    canonical one of the next member; names are unique by key (``check_manifest``), so a
    member's key has been seen exactly when its position is before ``index``.
    """

    def __init__(self, manifest: Manifest) -> None:
        self.order = stream_order(manifest)
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
    check_name(info.name)  # the type was checked on the raw header (tarstream)
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


def _take_small(decoder: Decoder, member: Member, whole: Callable) -> None:
    """A member small enough to hold, after its header: hashed in place in the decoded
    stream, then handed to ``whole``."""
    size = member.size
    data = decoder.view(size + (-size % BLOCK))
    if len(data) < size + (-size % BLOCK):
        raise VerificationError(f"the bundle is truncated inside {member.path}",
                                hint="download it again")
    hand_over_verified(member, data[:size], whole)


def hand_over_verified(member: Member, content: memoryview, whole: Callable) -> None:
    """Check a small member's content against the manifest, then hand it to ``whole``."""
    if hashlib.sha256(content).hexdigest() != member.sha256:
        raise reject(member.path, "sha256 differs from the manifest's")
    whole(member, content)


def _whole(open_sink: OpenSink | None) -> Callable[[Member, memoryview], object]:
    """How a verified small member is handed over: ``open_sink.whole`` when the sink has
    it, else a copy written to ``open_sink(member)``."""
    if open_sink is None:
        return lambda member, data: None
    whole = getattr(open_sink, "whole", None)
    if whole is not None:
        return whole

    def write(member: Member, data: memoryview) -> None:
        sink = open_sink(member)
        if sink is not None:
            try:
                sink.write(bytes(data))
            finally:
                sink.close()

    return write


def _copy_member(decoder: Decoder, member: Member, sink: MemberSink | None) -> None:
    digest, left = hashlib.sha256(), member.size
    try:
        while left:
            data = decoder.view_some(min(_READ, left))  # hashed and written as it lies
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


def _take_run(decoder: Decoder, expected: _Expected, whole) -> None:
    """Take members for as long as they are small and their headers canonical, each hashed
    in place and handed to ``whole(member, view)``: the common case in one loop, with no
    call per read. The first member it does not take is left for the general path, which
    also reports any defect (a truncated stream, say) the way it always does."""
    order, index = expected.order, expected.index
    buffer, position = decoder.buffer, decoder.position
    try:
        while index < len(order):
            member = order[index]
            size = member.size
            if size > _SMALL:
                break
            if position + BLOCK > len(buffer):
                decoder.position = position
                buffer, position = decoder.window(BLOCK)
            block = canonical_block(member.path, size, member.mode)
            if block is None or not buffer.startswith(block, position):
                break
            end = position + BLOCK + size + (-size % BLOCK)
            if end > len(buffer):
                decoder.position = position
                buffer, position = decoder.window(end - position)
                end = position + BLOCK + size + (-size % BLOCK)
                if end > len(buffer):
                    break
            hand_over_verified(member, memoryview(buffer)[position + BLOCK:position + BLOCK + size], whole)
            position, index = end, index + 1
    finally:
        decoder.position, expected.index = position, index


def _stream_members(decoder: Decoder, manifest: Manifest, open_sink: OpenSink | None) -> None:
    expected = _Expected(manifest)
    whole = _whole(open_sink)
    first = True
    try:
        while True:
            _take_run(decoder, expected, whole)
            first = first and expected.index == 0
            member = _next_member(decoder, expected, first)
            if member is None:
                break
            first = False
            if member.size <= _SMALL:
                _take_small(decoder, member, whole)
            else:
                _copy_member(decoder, member, open_sink(member) if open_sink else None)
    except (tarfile.TarError, EOFError) as error:
        raise VerificationError(f"the bundle's tar stream is damaged ({error})",
                                hint="download it again") from None
    expected.check_complete()


def _check_segments(raw: RawReader, manifest: Manifest, header: bytes,
                    digests: list[str]) -> None:
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


def _check_length(handle, header: bytes, expected: int) -> None:
    """A bundle samepack wrote (canonical header) but shorter than its manifest describes was
    cut short: say so before reading members (zstd readers end quietly at a cut)."""
    size = os.fstat(handle.fileno()).st_size
    if size < expected and os.pread(handle.fileno(), len(header), 0) == header:
        raise VerificationError(f"the bundle is truncated: {size} bytes, the manifest "
                                f"describes {expected}", hint="download it again")


def _expanded_bound(manifest: Manifest, manifest_bytes: bytes) -> int:
    """The most bytes a faithful tar stream of this manifest can expand to (headers, pax
    records and padding included); anything more is not what the manifest describes."""
    order = stream_order(manifest)
    overhead = sum(2560 + 2 * len(m.path.encode()) for m in order)
    return len(manifest_bytes) + 4096 + sum(m.size for m in order) + overhead


def _bounds(manifest: Manifest, header: bytes) -> list[int]:
    bounds = [0, len(header)]
    for part in manifest.parts:
        bounds.append(bounds[-1] + part.size)
    bounds.append(bounds[-1] + len(trailer_segment(manifest.compression)))
    return bounds


def read_bundle(path: Path, limits: Limits = Limits(), open_sink: OpenSink | None = None,
                on_read: "Callable[[int], None] | None" = None) -> VerifiedBundle:
    """Verify the bundle at ``path`` completely, handing each member's bytes to
    ``open_sink(member)`` (which may return None to skip) or, for members up to 1 MiB when
    the sink has it, to ``open_sink.whole(member, view)`` once they are verified. Raises
    VerificationError on the first defect; a sink's output is only trustworthy if this
    returns."""
    try:
        return _read_bundle(Path(path), limits, open_sink, on_read)
    except VerificationError as defect:
        raise named_in(defect, Path(path)) from None


def _read_bundle(path: Path, limits: Limits, open_sink: OpenSink | None,
                 on_read: "Callable[[int], None] | None") -> VerifiedBundle:
    handle, compression = open_bundle(path)
    with handle:
        raw = RawReader(handle, on_read)
        decoder = Decoder(raw, compression, max_output=limits.max_size + (1 << 30),
                          max_ratio=limits.max_ratio, ratio_floor=limits.ratio_floor)
        manifest_bytes = read_manifest_from(decoder)
        manifest = Manifest.from_bytes(manifest_bytes)
        header = header_segment(manifest_bytes, manifest.compression)
        bounds = _bounds(manifest, header)
        _check_length(handle, header, bounds[-1])
        attach_indexes(handle, manifest, len(header))
        check_manifest(manifest, limits)
        decoder.max_output = _expanded_bound(manifest, manifest_bytes)
        raw.set_ranges(bounds)
        raw.read_ahead()
        try:
            _stream_members(decoder, manifest, open_sink)
            _check_segments(raw, manifest, header, raw.finish())
        finally:
            raw.close()
    return VerifiedBundle(manifest, manifest_bytes)

