"""Member headers of a bundle's tar stream, read from a decoder without a ``tarfile`` per member.

A header block that is exactly the canonical one samepack writes for a short ASCII name (the
header is regenerated from the name, mode and size it states and compared byte for byte) is
taken as is; any other header (pax records, links, foreign archives) goes through
``tarfile.TarInfo.fromtarfile``, so odd and hostile archives get tarfile's full parsing.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from typing import Iterator

from samepack.bundle.tarblocks import BLOCK, member_header
from samepack.errors import VerificationError


@dataclass(frozen=True)
class Header:
    name: str
    size: int
    mode: int
    info: tarfile.TarInfo | None = None  # set for headers tarfile parsed (any type)


class _Source:
    """What ``TarInfo.fromtarfile`` reads from: the block already read, then the stream."""

    encoding, errors = "utf-8", "surrogateescape"

    def __init__(self, decoder) -> None:
        self.fileobj, self.decoder = self, decoder
        self.pending: bytes = b""
        self.position = self.offset = 0
        self.pax_headers: dict = {}

    def read(self, size: int) -> bytes:
        head, self.pending = self.pending[:size], self.pending[size:]
        data = head + (self.decoder.read(size - len(head)) if size > len(head) else b"")
        self.position += len(data)
        return data

    def tell(self) -> int:
        return self.position


def _canonical(block: bytes) -> Header | None:
    if block[156:157] != b"0" or block[257:263] != tarfile.POSIX_MAGIC[:6]:
        return None
    name = block[:100].split(b"\0", 1)[0]
    try:
        mode, size = int(block[100:107], 8), int(block[124:135], 8)
    except ValueError:
        return None
    if not name.isascii() or member_header(name.decode("ascii"), size, mode) != block:
        return None
    return Header(name.decode("ascii"), size, mode)


def headers(decoder) -> Iterator[Header]:
    """Each member's header in turn; the caller reads the member's data and padding from
    ``decoder`` before asking for the next. Ends at the end-of-archive marker (or, as
    tarfile does, at a damaged header after the first)."""
    first = True
    while (header := read_header(decoder, first)) is not None:
        first = False
        yield header


def read_header(decoder, first: bool) -> Header | None:
    """The next member's header, or None at the end of the archive (see ``headers``)."""
    block = decoder.read(BLOCK)
    header = _canonical(block) if len(block) == BLOCK else None
    return header if header is not None else _parsed(decoder, block, first)


def canonical_block(path: str, size: int, mode: int) -> bytes | None:
    """The one-block header samepack writes for this member when its name is short ASCII
    (the only headers ``_canonical`` accepts), else None."""
    if len(path) > 100 or not path.isascii():
        return None
    return member_header(path, size, mode)


def _parsed(decoder, block: bytes, first: bool) -> Header | None:
    source = _Source(decoder)
    source.pending = block
    try:
        info = tarfile.TarInfo.fromtarfile(source)
    except tarfile.SubsequentHeaderError as error:
        raise _damaged(error) from None
    except tarfile.HeaderError as error:
        if first and not isinstance(error, tarfile.EOFHeaderError):
            raise _damaged(error) from None
        return None
    return Header(info.name, info.size, info.mode, info)


def _damaged(error: Exception) -> VerificationError:
    return VerificationError(f"the bundle's tar stream is damaged ({error})",
                             hint="download it again")
