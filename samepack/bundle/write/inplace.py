"""Writing a bundle's data part straight into the bundle file.

Data files can be large: written to a temp segment first and copied behind the header, they
would cross the disk twice and need twice their size free. The manifest is first in the file
but complete only once the data is hashed; its length, though, is known before: in format 3 it
lists no members (they are in each part's index), the sha256 values have a fixed length, and
the padding absorbs the digits of the data part's numbers (:meth:`Manifest.to_bytes`). So the
data segment is written at its final offset, then the header and the other parts in front of
it.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, Callable

from samepack.bundle.system.atomic import atomic_output
from samepack.bundle.format.layout import header_segment, trailer_segment
from samepack.bundle.format.manifest import Index, Manifest, Part
from samepack.bundle.write.writer import Source, write_part

PLACEHOLDER_SHA = "0" * 64
_COPY = 64 * 1024 * 1024


def _copy_range(source: BinaryIO, offset: int, size: int, target: BinaryIO,
                target_offset: int) -> None:
    """Copy ``size`` bytes between two files at explicit offsets (in the kernel if possible)."""
    source.flush()
    target.flush()
    done = 0
    try:
        while done < size:
            sent = os.copy_file_range(source.fileno(), target.fileno(), size - done,
                                      offset + done, target_offset + done)
            if sent == 0:
                break
            done += sent
    except (OSError, AttributeError):
        pass
    while done < size:
        data = os.pread(source.fileno(), min(_COPY, size - done), offset + done)
        if not data:
            raise OSError(f"{source.name}: ended {size - done} bytes early")
        os.pwrite(target.fileno(), data, target_offset + done)
        done += len(data)


def write_with_data_in_place(base: Manifest, written: list[tuple[Part, Path]],
                             sources: list[Source], out: Path, level: int | None,
                             pool: ThreadPoolExecutor, force: bool,
                             on_bytes: Callable[[int], None] | None = None) -> Manifest:
    """Write the bundle ``base`` ‖ data part to ``out``: ``written`` are the other parts'
    temp segments in order, ``sources`` the data part's sources."""
    compression = base.compression
    planned = replace(base, parts=base.parts + [
        Part("data", compression, 0, PLACEHOLDER_SHA, [], Index(0, PLACEHOLDER_SHA, 0))])
    planned_bytes = planned.to_bytes()
    offset = len(header_segment(planned_bytes, compression)) + sum(
        part.size for part, _ in written)
    with atomic_output(out, force=force) as handle:
        handle.seek(offset)
        part = write_part("data", sources, handle, compression, level, pool,
                          on_bytes=on_bytes)
        handle.write(trailer_segment(compression))
        manifest = replace(base, parts=base.parts + [part])
        raw = manifest.to_bytes()
        if len(raw) != len(planned_bytes):  # cannot happen: every number is padded
            raise RuntimeError(f"the manifest is {len(raw)} bytes, {len(planned_bytes)} "
                               "were planned")
        handle.flush()
        os.pwrite(handle.fileno(), header_segment(raw, compression), 0)
        position = offset - sum(p.size for p, _ in written)
        for earlier, path in written:
            with open(path, "rb") as source:
                _copy_range(source, 0, earlier.size, handle, position)
            position += earlier.size
    return manifest
