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

from samepack.bundle.read.safety import reject, shown
from samepack.bundle.format.tarblocks import BLOCK, member_header
from samepack.errors import VerificationError

# The pax records samepack writes hold a name (``path``, at most MAX_NAME_BYTES) and a size:
# a few kB. Anything claiming more is not a samepack header, and is refused before it is read.
MAX_PAX_BYTES = 64 * 1024
PAX_KEYS = frozenset({"path", "size"})
_TYPE_WORDS = {
    b"1": "is a hard link; bundles hold regular files only",
    b"2": "is a symbolic link; bundles hold regular files only",
    b"3": "is a device node (character)", b"4": "is a device node (block)",
    b"5": "is a directory entry; bundles hold regular files only", b"6": "is a FIFO",
    b"7": "is a contiguous file (tar type '7'); bundles hold type '0' only",
    b"S": "is a GNU sparse file; bundles hold regular files only",
    b"L": "is a GNU long-name header; bundles use pax records",
    b"K": "is a GNU long-link header; bundles hold no links",
    b"g": "is a pax global header; bundles use per-member pax records",
    b"\0": "is an old-style (V7) file header; bundles hold type '0' only",
}


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
        more = size > len(head) and self.decoder is not None
        data = head + (self.decoder.read(size - len(head)) if more else b"")
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
    if size < 0 or mode < 0:  # "%o" writes a sign: a header with one is not canonical
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


def _block_name(block: bytes) -> str:
    return block[:100].split(b"\0", 1)[0].decode("utf-8", "replace")


def _refuse(block: bytes, why: str) -> VerificationError:
    return reject(shown(_block_name(block)), why)


def _octal(field: bytes) -> int | None:
    try:
        return tarfile.nti(field)
    except tarfile.InvalidHeaderError:
        return None


def _claimed(decoder, block: bytes) -> bytes:
    """The raw header block(s) of the next member, its type checked before anything else is
    read: a ``0`` block alone, or a bounded ``x`` block, its records and the ``0`` block after."""
    kind = block[156:157]
    if kind == b"0":
        return block
    if kind != b"x":
        raise _refuse(block, _TYPE_WORDS.get(kind, f"has tar type {kind!r}, not one samepack "
                                                    "writes"))
    size = _octal(block[124:136])
    if size is None or size > MAX_PAX_BYTES:
        raise _refuse(block, f"its pax extended header claims {size} bytes, over the limit of "
                             f"{MAX_PAX_BYTES}")
    records = decoder.read(size + (-size % BLOCK))
    for key in _pax_keys(records[:size]):
        if key not in PAX_KEYS:
            raise _refuse(block, f"pax record {key!r} is not one samepack writes")
    following = decoder.read(BLOCK)
    if len(following) == BLOCK and following[156:157] != b"0":
        raise _refuse(following, "follows a pax header but is not a regular file; " +
                      _TYPE_WORDS.get(following[156:157], "bundles hold type '0' only"))
    return block + records + following


def _pax_keys(records: bytes) -> list[str]:
    """The keys of pax records (``LENGTH KEY=VALUE\n`` each), read before tarfile sees them:
    some keys (GNU sparse maps) make tarfile act on them while it parses."""
    keys, offset = [], 0
    while offset < len(records) and records[offset:offset + 1] != b"\0":
        length, space, _ = records[offset:offset + 24].partition(b" ")
        equals = records.find(b"=", offset, offset + int(length) if length.isdigit() else 0)
        if not space or not length.isdigit() or int(length) <= 0 or equals < 0:
            raise _damaged(tarfile.HeaderError("a pax record is malformed"))
        keys.append(records[offset + len(length) + 1:equals].decode("utf-8", "replace"))
        offset += int(length)
    return keys


def _parsed(decoder, block: bytes, first: bool) -> Header | None:
    if len(block) == BLOCK and block.count(0) != BLOCK:
        block = _claimed(decoder, block)
    source = _Source(None)
    source.pending = block
    try:
        info = tarfile.TarInfo.fromtarfile(source)
    except tarfile.SubsequentHeaderError as error:
        raise _damaged(error) from None
    except tarfile.HeaderError as error:
        if first and not isinstance(error, tarfile.EOFHeaderError):
            raise _damaged(error) from None
        return None
    if source.pending or info.type != tarfile.REGTYPE or info.size < 0:
        raise _damaged(tarfile.HeaderError("a member header is malformed"))
    extra = sorted(set(info.pax_headers) - PAX_KEYS)
    if extra:
        raise reject(shown(info.name), f"pax record {extra[0]!r} is not one samepack writes")
    return Header(info.name, info.size, info.mode, info)


def _damaged(error: Exception) -> VerificationError:
    return VerificationError(f"the bundle's tar stream is damaged ({error})",
                             hint="download it again")
