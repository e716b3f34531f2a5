"""The bundle manifest (``samepack-bundle.json``), format 2 (format 1 is still read): what a
bundle holds, part by part and member by member, in canonical JSON so equal content gives equal
bytes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from samepack.errors import VerificationError

FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
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


@dataclass
class Part:
    name: str
    compression: str
    size: int
    sha256: str
    members: list[Member] = field(default_factory=list)

    @property
    def media_type(self) -> str:
        return media_type(self.name, self.compression)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "compression": self.compression, "media_type": self.media_type,
                "size": self.size, "sha256": self.sha256,
                "members": [member.to_dict() for member in self.members]}


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
        return {"format": self.format, "kind": "samepack-bundle",
                "program": {"name": self.name, "version": self.version},
                "created": self.created, "compression": self.compression,
                "tool": {"name": "samepack", "version": self.tool_version},
                "parts": [part.to_dict() for part in self.parts]}

    def to_bytes(self) -> bytes:
        """Canonical JSON; with a data part, followed by ``SIZE_DIGITS`` minus the digits of
        that part's size in spaces, so the length does not depend on that size and the data
        segment can be written in place before the manifest is complete."""
        data = self.part("data")
        pad = SIZE_DIGITS - len(str(data.size)) if data is not None else 0
        return _canonical_manifest(self) + b" " * pad

    def part(self, name: str) -> Part | None:
        return next((part for part in self.parts if part.name == name), None)

    def members(self) -> list[Member]:
        return [member for part in self.parts for member in part.members]

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


_EMPTY_MEMBERS = '"members":[]'
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\\ud800-\udfff]')  # what JSON escapes, lone surrogates
_encode_string = json.JSONEncoder(ensure_ascii=False).encode


def _canonical_manifest(manifest: Manifest) -> bytes:
    """``canonical_json(manifest.to_dict())``, with the member lists (all but a few bytes of a
    large manifest) formatted directly: the same bytes, several times faster."""
    skeleton = replace(manifest, parts=[replace(part, members=[]) for part in manifest.parts]
                       ).to_dict()
    pieces = canonical_json(skeleton).decode().split(_EMPTY_MEMBERS)
    if len(pieces) != len(manifest.parts) + 1:  # cannot happen: keys are fixed, strings escaped
        return canonical_json(manifest.to_dict())
    out = [pieces[0]]
    for part, rest in zip(manifest.parts, pieces[1:]):
        if _NEEDS_ESCAPE.search("".join(m.path for m in part.members)):
            members = ('{"mode":"%04o","path":%s,"sha256":"%s","size":%d}'
                       % (m.mode, _encode_string(m.path), m.sha256, m.size)
                       for m in part.members)
        else:  # no path needs escaping: each is its own JSON string between quotes
            members = ('{"mode":"%04o","path":"%s","sha256":"%s","size":%d}'
                       % (m.mode, m.path, m.sha256, m.size) for m in part.members)
        out.append('"members":[' + ",".join(members) + "]")
        out.append(rest)
    return "".join(out).encode()


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


def _parse_part(data: Any, index: int, compression: str) -> Part:
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
    members = _parse_members(_field(data, "members", list, where), where)
    size = _field(data, "size", int, where)
    if size < 0:
        raise _bad(f"{where}size is negative")
    return Part(name, compression, size, digest, members)


def _parse(data: dict, format_version: int) -> Manifest:
    program = _field(data, "program", dict, "")
    tool = _field(data, "tool", dict, "")
    compression = _field(data, "compression", str, "")
    if compression not in ("gzip", "zstd"):
        raise _bad(f"compression {compression!r} is not gzip or zstd")
    parts = [_parse_part(item, i, compression)
             for i, item in enumerate(_field(data, "parts", list, ""))]
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
