"""The bundle manifest (``samepack-bundle.json``), format 3 (formats 1 and 2 are still read):
what a bundle holds, part by part and member by member, in canonical JSON so equal content gives
equal bytes.

In memory a :class:`Manifest` always lists every member. In format 3 the file lists the parts
only, each with a record of its index (:mod:`samepack.bundle.format.index`), the member records
travelling compressed in the part's own segment; a manifest read from format 3 bytes has no
members until its indexes are attached (``Part.members`` is None until then)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from samepack.errors import VerificationError

FORMAT_VERSION = 3
READABLE_FORMATS = (1, 2, 3)
MANIFEST_NAME = "samepack-bundle.json"
PART_ORDER = ("program", "env", "code", "infra", "metadata", "data")
# What is rendered from the program file travels beside it in format 2's program part, so a new
# version that changes only the program changes only that part; format 1 has an infra part and
# keeps provenance and SBOM in metadata.
RENDERED_FROM_PROGRAM = ("infra/", "metadata/provenance.intoto.json", "metadata/sbom.cdx.json")
MODES = (0o644, 0o755)
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
SIZE_DIGITS = 20  # a segment size never has more digits (2**64 has 20)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z


def part_names(format_version: int) -> tuple[str, ...]:
    """The parts a bundle of ``format_version`` may hold, in layout order."""
    return PART_ORDER if format_version == 1 else tuple(p for p in PART_ORDER if p != "infra")


def belongs_to(path: str, part: str, format_version: int) -> bool:
    """Whether a member ``path`` may be listed in ``part`` of a bundle of ``format_version``."""
    if format_version > 1 and _rendered(path):
        return part == "program"
    if format_version > 1 and part == "program" and path.startswith("code/"):
        return True  # the program's own file, as the user wrote it, where it lies in the project
    return path.startswith(part + "/")


def _rendered(path: str) -> bool:
    return any(path == item or (item.endswith("/") and path.startswith(item))
               for item in RENDERED_FROM_PROGRAM)


def media_type(part: str, compression: str) -> str:
    """The OCI media type of a part's segment."""
    return f"application/vnd.samepack.{part}.v1.tar+{compression}"


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no insignificant whitespace, UTF-8: one byte string per value."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Member(NamedTuple):
    """One file of a part. A named tuple: a large tree makes one per file, on export and on
    import, and a tuple is made several times faster than a frozen dataclass."""

    path: str
    size: int
    mode: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "mode": f"{self.mode:04o}",
                "sha256": self.sha256}


@dataclass(frozen=True)
class Index:
    """Where a part's index lies and what it is (format 3): ``size`` bytes of JSON with
    ``sha256``, held by the last ``frame`` bytes of the part's segment."""

    size: int
    sha256: str
    frame: int

    def to_dict(self) -> dict[str, Any]:
        return {"frame": self.frame, "sha256": self.sha256, "size": self.size}


class MembersNotLoaded(RuntimeError):
    """A format 3 manifest's members were asked for before its indexes were attached."""


@dataclass
class Part:
    name: str
    compression: str
    size: int
    sha256: str
    members: "list[Member] | None" = field(default_factory=list)
    index: Index | None = None  # format 3: the record of the part's index

    def listed(self) -> list[Member]:
        """The part's members (its index not among them)."""
        if self.members is None:
            raise MembersNotLoaded(f"part {self.name}: the index was not read")
        return self.members

    @property
    def media_type(self) -> str:
        return media_type(self.name, self.compression)

    def to_dict(self) -> dict[str, Any]:
        data = {"name": self.name, "compression": self.compression,
                "media_type": self.media_type, "size": self.size, "sha256": self.sha256,
                "members": [member.to_dict() for member in self.listed()]}
        if self.index is not None:
            data["index"] = self.index.to_dict()
        return data

    def header_dict(self) -> dict[str, Any]:
        """The part as the format 3 manifest file records it: no members, its index."""
        return {"name": self.name, "compression": self.compression,
                "media_type": self.media_type, "size": self.size, "sha256": self.sha256,
                "index": self.index.to_dict()}


@dataclass
class Manifest:
    name: str
    version: str
    created: int  # seconds since the epoch
    compression: str
    tool_version: str
    parts: list[Part] = field(default_factory=list)
    format: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Everything the manifest says, members included (whatever the format)."""
        return self._dict([part.to_dict() for part in self.parts])

    def _dict(self, parts: list[dict[str, Any]]) -> dict[str, Any]:
        return {"format": self.format, "kind": "samepack-bundle",
                "program": {"name": self.name, "version": self.version},
                "created": self.created, "compression": self.compression,
                "tool": {"name": "samepack", "version": self.tool_version},
                "parts": parts}

    def to_bytes(self) -> bytes:
        """The manifest file: canonical JSON; with a data part, followed by spaces, so the
        length does not depend on that part's numbers and the data segment can be written in
        place before the manifest is complete: ``SIZE_DIGITS`` minus the digits of each of
        its size (and, in format 3, its index's size and frame)."""
        data = self.part("data")
        numbers = [] if data is None else [data.size] + (
            [data.index.size, data.index.frame] if self.format >= 3 else [])
        pad = sum(SIZE_DIGITS - len(str(number)) for number in numbers)
        if self.format >= 3:
            body = canonical_json(self._dict([part.header_dict() for part in self.parts]))
        else:
            body = canonical_json(self.to_dict())
        return body + b" " * pad

    def part(self, name: str) -> Part | None:
        return next((part for part in self.parts if part.name == name), None)

    def members(self) -> list[Member]:
        return [member for part in self.parts for member in part.listed()]

    @property
    def total_size(self) -> int:
        return sum(member.size for member in self.members())

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Manifest":
        """Parse and check a manifest; any defect is a VerificationError naming the field."""
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError as error:  # not UTF-8, not JSON, or an integer of 4,300+ digits
            raise _bad(f"is not valid JSON ({str(error)[:200]})") from None
        except RecursionError:
            raise _bad("nests too deeply to be a bundle manifest") from None
        if not isinstance(data, dict):
            raise _bad("is not a JSON object")
        version = data.get("format")
        if type(version) is not int or version not in READABLE_FORMATS:  # not true, not 1.0
            raise VerificationError(
                f"{MANIFEST_NAME}: unknown bundle format version {version!r}",
                hint=f"this samepack reads formats {', '.join(map(str, READABLE_FORMATS))}; "
                     "upgrade samepack to read it")
        return _parse(data, version)


def _bad(what: str, hint: str | None = None) -> VerificationError:
    return VerificationError(f"{MANIFEST_NAME}: {what}",
                             hint=hint or "the bundle is damaged or was not written by samepack")


def _field(data: dict, key: str, kind: type, where: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _bad(f"field {where}{key} is missing or not a {kind.__name__}")
    return value


_MODE_TEXT = {"0644": 0o644, "0755": 0o755}
_HEX_DIGITS = b"0123456789abcdef"


def _parse_members(items: list, where: str) -> list[Member]:
    """A part's ``members[]``. Well-formed entries are taken in one pass, their digests
    checked all at once; if anything is off, every entry goes through ``_check_member`` in
    order, which names the first bad field."""
    members, digests = [], []
    for data in items:
        if type(data) is not dict:
            break
        path, size, mode, digest = (data.get("path"), data.get("size"), data.get("mode"),
                                    data.get("sha256"))
        if not (type(path) is str and type(size) is int and size >= 0 and type(mode) is str
                and mode in _MODE_TEXT and type(digest) is str and len(digest) == 64):
            break
        members.append(Member(path, size, _MODE_TEXT[mode], digest))
        digests.append(digest)
    else:
        if _lower_hex("".join(digests)):
            return members
    return [_check_member(item, f"{where}members[{i}].") for i, item in enumerate(items)]


def _lower_hex(text: str) -> bool:
    """Whether ``text`` holds only the digits 0-9a-f."""
    try:
        return not text.encode("ascii").translate(None, _HEX_DIGITS)
    except UnicodeEncodeError:
        return False


def _check_member(data: Any, where: str) -> Member:
    if not isinstance(data, dict):
        raise _bad(f"{where} is not an object")
    mode_text = _field(data, "mode", str, where)
    mode = int(mode_text, 8) if re.fullmatch(r"0[0-7]{3}", mode_text) else -1
    if mode not in MODES:
        raise _bad(f"{where}mode {mode_text!r} is not 0644 or 0755")
    digest = _field(data, "sha256", str, where)
    if not _SHA256.match(digest):
        raise _bad(f"{where}sha256 is not a sha256 hex digest")
    size = _field(data, "size", int, where)
    if size < 0:
        raise _bad(f"{where}size is negative")
    return Member(_field(data, "path", str, where), size, mode, digest)


def _parse_index(data: Any, where: str) -> Index:
    if not isinstance(data, dict):
        raise _bad(f"field {where}index is missing or not an object")
    where += "index."
    digest = _field(data, "sha256", str, where)
    if not _SHA256.match(digest):
        raise _bad(f"{where}sha256 is not a sha256 hex digest")
    size, frame = _field(data, "size", int, where), _field(data, "frame", int, where)
    if size < 0 or frame <= 0:
        raise _bad(f"{where}size or frame is not a positive number of bytes")
    if size > MAX_MANIFEST_BYTES:
        raise _bad(f"{where}size {size} is over the limit of {MAX_MANIFEST_BYTES} bytes")
    return Index(size, digest, frame)


def _parse_part(data: Any, index: int, compression: str, format_version: int) -> Part:
    where = f"parts[{index}]."
    if not isinstance(data, dict):
        raise _bad(f"parts[{index}] is not an object")
    name = _field(data, "name", str, where)
    if name not in PART_ORDER:
        raise _bad(f"{where}name {name!r} is not a known part")
    if _field(data, "compression", str, where) != compression:
        raise _bad(f"{where}compression differs from the bundle's")
    digest = _field(data, "sha256", str, where)
    if not _SHA256.match(digest):
        raise _bad(f"{where}sha256 is not a sha256 hex digest")
    size = _field(data, "size", int, where)
    if size < 0:
        raise _bad(f"{where}size is negative")
    if format_version >= 3:  # the members are in the part's index, read later
        record = _parse_index(data.get("index"), where)
        if record.frame > size:
            raise _bad(f"{where}index.frame is larger than the part's segment")
        return Part(name, compression, size, digest, None, record)
    members = _parse_members(_field(data, "members", list, where), where)
    return Part(name, compression, size, digest, members)


def _parse(data: dict, format_version: int) -> Manifest:
    program = _field(data, "program", dict, "")
    tool = _field(data, "tool", dict, "")
    compression = _field(data, "compression", str, "")
    if compression not in ("gzip", "zstd"):
        raise _bad(f"compression {compression!r} is not gzip or zstd")
    parts = [_parse_part(item, i, compression, format_version)
             for i, item in enumerate(_field(data, "parts", list, ""))]
    if sum(part.index.size for part in parts if part.index is not None) > MAX_MANIFEST_BYTES:
        raise _bad(f"the parts' indexes add up to more than {MAX_MANIFEST_BYTES} bytes")
    names, order = [part.name for part in parts], part_names(format_version)
    if names != [name for name in order if name in names]:
        raise _bad(f"parts are not in the order {', '.join(order)} or repeat")
    created = _field(data, "created", int, "")
    if not 0 <= created <= _LAST_SECOND:
        raise _bad(f"created {created} is not a time between 1970 and 9999")
    return Manifest(name=_field(program, "name", str, "program."),
                    version=_field(program, "version", str, "program."),
                    created=created, compression=compression,
                    tool_version=str(tool.get("version", "")), parts=parts,
                    format=format_version)
