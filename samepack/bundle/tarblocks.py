"""Tar blocks of a bundle: deterministic member headers, padding and the end-of-archive marker.

Headers are POSIX pax (ustar with pax records for long or non-ASCII names and big sizes), with
mtime 0, uid/gid 0 and empty owner names, so equal content gives equal bytes.
"""

from __future__ import annotations

import tarfile

BLOCK = 512
END_OF_ARCHIVE = bytes(2 * BLOCK)


def member_header(path: str, size: int, mode: int) -> bytes:
    """The header block(s) of a regular file member."""
    info = tarfile.TarInfo(path)
    info.size = size
    info.mode = mode
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def padding(size: int) -> bytes:
    """Zero bytes that fill a member's data up to the next block."""
    return bytes(-size % BLOCK)
