"""Writing a bundle's data part straight into the bundle file.

Data files can be large: written to a temp segment first and copied behind the header, they
would cross the disk twice and need twice their size free. The manifest is first in the file
but complete only once the data is hashed; its length, though, is known before: every field
is final except the data part's sha256 values (fixed length), the size of ``pointers.json``
(predicted from the files' sizes) and the data segment's size, whose digits the manifest's
padding absorbs (:meth:`Manifest.to_bytes`). So the data segment is written at its final
offset, then the header and the other parts in front of it. Should the prediction miss (a
file changed size meanwhile, a declared sha256 that does not match), the segment is copied
into a bundle assembled the usual way.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, Callable

from samepack.bundle.system.atomic import atomic_output, temp_path
from samepack.bundle.write.batch import exec_mode
from samepack.bundle.format.layout import assemble, header_segment, trailer_segment
from samepack.bundle.format.manifest import Manifest, Member, Part
from samepack.bundle.write.writer import Source, write_part

PLACEHOLDER_SHA = "0" * 64
_COPY = 64 * 1024 * 1024


def predicted_members(sources: list[Source]) -> list[Member]:
    """The data part's members as they will be written, with placeholder hashes."""
    members: list[Member] = []
    for source in sorted(sources, key=lambda s: s.path.encode("utf-8", "surrogateescape")):
        if source.produce is not None:
            size, mode = len(source.produce(members)), source.mode or 0o644
        elif source.data is not None:
            size, mode = len(source.data), source.mode or 0o644
        else:
            info = os.stat(source.file)
            size = info.st_size
            mode = exec_mode(info.st_mode) if source.mode is None else source.mode
        members.append(Member(source.path, size, mode, PLACEHOLDER_SHA))
    return members


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


class _Unplanned(Exception):
    def __init__(self, manifest: Manifest) -> None:
        super().__init__("the manifest's length differs from the one planned")
        self.manifest = manifest


def write_with_data_in_place(base: Manifest, written: list[tuple[Part, Path]],
                             sources: list[Source], planned_sources: list[Source], out: Path,
                             level: int | None, pool: ThreadPoolExecutor, force: bool,
                             on_bytes: Callable[[int], None] | None = None) -> Manifest:
    """Write the bundle ``base`` ‖ data part to ``out``: ``written`` are the other parts'
    temp segments in order, ``sources`` the data part's sources and ``planned_sources`` the
    same made without side effects (used to predict the members)."""
    compression = base.compression
    planned = replace(base, parts=base.parts + [
        Part("data", compression, 0, PLACEHOLDER_SHA, predicted_members(planned_sources))])
    planned_bytes = planned.to_bytes()
    reserved = len(planned_bytes)
    offset = len(header_segment(planned_bytes, compression)) + sum(
        part.size for part, _ in written)
    segment = temp_path(out, ".data")
    try:
        with atomic_output(out, force=force) as handle:
            handle.seek(offset)
            part = write_part("data", sources, handle, compression, level, pool,
                              on_bytes=on_bytes)
            handle.write(trailer_segment(compression))
            manifest = replace(base, parts=base.parts + [part])
            raw = manifest.to_bytes()
            if len(raw) != reserved:
                handle.flush()
                with open(handle.name, "rb") as written_so_far, open(segment, "xb") as spill:
                    _copy_range(written_so_far, offset, part.size, spill, 0)
                raise _Unplanned(manifest)
            handle.flush()
            os.pwrite(handle.fileno(), header_segment(raw, compression), 0)
            position = offset - sum(p.size for p, _ in written)
            for earlier, path in written:
                with open(path, "rb") as source:
                    _copy_range(source, 0, earlier.size, handle, position)
                position += earlier.size
        return manifest
    except _Unplanned as unplanned:
        manifest = unplanned.manifest
        assemble(manifest.to_bytes(), [(p.name, path) for p, path in written]
                 + [("data", segment)], out, verify=False, force=force, manifest=manifest)
        return manifest
    finally:
        segment.unlink(missing_ok=True)
