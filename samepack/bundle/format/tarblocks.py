"""Tar blocks of a bundle: deterministic member headers, padding and the end-of-archive marker.

Headers are POSIX pax (ustar with pax records for long or non-ASCII names and big sizes), with
mtime 0, uid/gid 0 and empty owner names, so equal content gives equal bytes.
"""

from __future__ import annotations

BLOCK = 512
END_OF_ARCHIVE = bytes(2 * BLOCK)


_USTAR_MAX_SIZE = 8 ** 11 - 1


# The fixed parts of a ustar header block around name (100), mode (8), uid+gid (16), size (12),
# mtime (12) and checksum (8): everything after the checksum is the same for every member.
_IDS = b"0000000\0" * 2
_MTIME = b"00000000000\0"
REGTYPE = b"0"  # tarfile.REGTYPE; tarfile itself is imported only for pax headers
_POSIX_MAGIC = b"ustar\x0000"  # tarfile.POSIX_MAGIC
_TAIL = (REGTYPE + bytes(100) + _POSIX_MAGIC + bytes(32 + 32 + 8 + 8 + 155)
         ).ljust(BLOCK - 156, b"\0")
_FIXED_SUM = sum(_IDS) + sum(_MTIME) + sum(b" " * 8) + sum(_TAIL)


_MODE_FIELDS = {mode: (b"%07o\0" % mode, sum(b"%07o\0" % mode)) for mode in (0o644, 0o755)}


def _ustar_header(name: bytes, size: int, mode: int) -> bytes:
    """One ustar block, as tarfile writes it for a short ASCII name (pax needs no records);
    the checksum is summed from the variable fields only."""
    mode_field, mode_sum = _MODE_FIELDS.get(mode) or (b"%07o\0" % mode, sum(b"%07o\0" % mode))
    size_field = b"%011o\0" % size
    checksum = _FIXED_SUM + sum(name) + mode_sum + sum(size_field)
    return b"".join((name.ljust(100, b"\0"), mode_field, _IDS, size_field, _MTIME,
                     b"%06o\0 " % checksum, _TAIL))


def member_header(path: str, size: int, mode: int) -> bytes:
    """The header block(s) of a regular file member."""
    name = path.encode("utf-8", "surrogateescape")
    if len(name) <= 100 and name.isascii() and size <= _USTAR_MAX_SIZE:
        return _ustar_header(name, size, mode)
    import tarfile  # a long or non-ASCII name, or a huge size: rare

    info = tarfile.TarInfo(path)
    info.size = size
    info.mode = mode
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


# The padding after ``size`` bytes of data is PADDING[size % BLOCK] (made once, not per member).
PADDING = tuple(bytes(-remainder % BLOCK) for remainder in range(BLOCK))


def padding(size: int) -> bytes:
    """Zero bytes that fill a member's data up to the next block."""
    return PADDING[size % BLOCK]
