"""A part's index (format 3): the records of its members, as the last member of the part's own
segment, ``samepack-bundle/<part>.json``.

In formats 1 and 2 these records sat in the manifest, which the header segment holds
uncompressed (the header must be regenerated from the manifest bytes alone, on any machine),
so a tree of many small files carried them at full size. In its part's segment an index is
compressed with the part, travels in the part's registry layer, and changes only when the part
does. The manifest keeps, per part, the index's length, sha256 and the compressed bytes it
occupies at the end of the segment, so a reader finds and checks every index before it reads
any member.

The index is canonical JSON with one array per field (columns compress better than a record
per member): ``path``, ``size`` and ``mode`` (``"0644"``/``"0755"``), and ``sha256``, the
members' digests as one base64 string of their 32-byte values in order.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from pathlib import Path
from typing import Callable

from samepack.bundle.format.manifest import Index, Manifest, Member, Part, canonical_json
from samepack.errors import VerificationError

INDEX_FOLDER = "samepack-bundle"
_MODE_TEXT = {"0644": 0o644, "0755": 0o755}


def index_path(part: str) -> str:
    """The member path of ``part``'s index."""
    return f"{INDEX_FOLDER}/{part}.json"


def index_member(part: str, index: Index) -> Member:
    """The index as the member it is in the tar stream (listed after the part's members)."""
    return Member(index_path(part), index.size, 0o644, index.sha256)


def encode_index(part: str, members: list[Member]) -> bytes:
    """The canonical index bytes of ``part``'s members (in their order)."""
    paths, sizes, modes, digests = zip(*members) if members else ((), (), (), ())
    texts = {mode: f"{mode:04o}" for mode in set(modes)}  # two, nearly always
    return canonical_json({"format": 3, "part": part, "path": paths, "size": sizes,
                           "mode": list(map(texts.__getitem__, modes)),
                           "sha256": base64.b64encode(bytes.fromhex("".join(digests))
                                                      ).decode("ascii")})


def _bad(part: str, what: str) -> VerificationError:
    return VerificationError(f"{index_path(part)}: {what}",
                             hint="the bundle is damaged or was not written by samepack")


def check_index_bytes(part: str, raw: bytes, index: Index) -> None:
    """``raw`` is the index the manifest describes (length and sha256)."""
    if len(raw) != index.size or hashlib.sha256(raw).hexdigest() != index.sha256:
        raise _bad(part, "differs from the manifest's record of it (size or sha256)")


def decode_index(part: str, raw: bytes) -> list[Member]:
    """The members an index lists; any defect is a VerificationError naming the field."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError as error:
        raise _bad(part, f"is not valid JSON ({str(error)[:200]})") from None
    except RecursionError:
        raise _bad(part, "nests too deeply to be an index") from None
    if not isinstance(data, dict):
        raise _bad(part, "is not a JSON object")
    if data.get("part") != part:
        raise _bad(part, f"names part {data.get('part')!r}, not {part!r}")
    columns = {}
    for key in ("path", "size", "mode"):
        value = data.get(key)
        if type(value) is not list:
            raise _bad(part, f"field {key} is missing or not a list")
        columns[key] = value
    paths, sizes, modes = columns["path"], columns["size"], columns["mode"]
    if not len(paths) == len(sizes) == len(modes):
        raise _bad(part, "fields path, size and mode differ in length")
    encoded = data.get("sha256")
    if type(encoded) is not str:
        raise _bad(part, "field sha256 is missing or not a string")
    try:
        digests = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise _bad(part, "field sha256 is not base64") from None
    if len(digests) != 32 * len(paths):
        raise _bad(part, f"field sha256 holds {len(digests)} bytes, not 32 for each of the "
                         f"{len(paths)} members")
    hexes = digests.hex()
    if (set(map(type, paths)) <= {str} and set(map(type, sizes)) <= {int}
            and min(sizes, default=0) >= 0 and set(map(type, modes)) <= {str}
            and set(modes) <= _MODE_TEXT.keys()):
        # well-formed, as every index samepack writes: taken in one pass
        return list(map(Member, paths, sizes, map(_MODE_TEXT.__getitem__, modes),
                        [hexes[i:i + 64] for i in range(0, len(hexes), 64)]))
    for i, (path, size, mode) in enumerate(zip(paths, sizes, modes)):
        if type(path) is not str:
            raise _bad(part, f"path[{i}] is not a string")
        if type(size) is not int or size < 0:
            raise _bad(part, f"size[{i}] is not a whole number of bytes")
        if type(mode) is not str or mode not in _MODE_TEXT:
            raise _bad(part, f"mode[{i}] {mode!r} is not 0644 or 0755")
    raise AssertionError("unreachable: a column failed the bulk check but no entry did")


def attach(manifest: Manifest, read_raw: Callable[[Part], bytes]) -> None:
    """Give a format 3 manifest its members: ``read_raw(part)`` returns the bytes of the
    part's index, checked here against the manifest's record before they are parsed. Older
    formats list their members already."""
    for part in manifest.parts:
        if part.members is None:
            raw = read_raw(part)
            check_index_bytes(part.name, raw, part.index)
            part.members = decode_index(part.name, raw)


def attach_from_folder(manifest: Manifest, root: Path) -> None:
    """``attach`` from the index files of an extracted bundle or a store entry in ``root``."""
    def read(part: Part) -> bytes:
        file = root / index_path(part.name)
        if not file.is_file() or file.is_symlink():
            raise VerificationError(f"{file}: missing (the manifest lists the part's index)",
                                    hint="extract the whole bundle again")
        if file.stat().st_size != part.index.size:
            raise _bad(part.name, "differs from the manifest's record of it (size or sha256)")
        return file.read_bytes()

    attach(manifest, read)
