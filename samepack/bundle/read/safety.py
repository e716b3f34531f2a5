"""Rules a bundle's member names and manifest must follow before anything is extracted."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from samepack.bundle.format.manifest import MANIFEST_NAME, Manifest, belongs_to
from samepack.errors import InputError, VerificationError

_DRIVE = re.compile(r"^[A-Za-z]:")
# C0 and C1 controls, and the bidirectional overrides and isolates that make a name read
# differently from what it is (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, U+061C).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MAX_NAME_BYTES = 4096  # PATH_MAX of Linux
MAX_COMPONENT_BYTES = 255  # NAME_MAX of common file systems
MAX_DEPTH = 256  # folders deep; far beyond real projects, far below recursion limits
MAX_MEMBERS = 2_000_000
GIB = 1024 ** 3


_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000 ** 2, "mb": 1000 ** 2,
          "g": 1000 ** 3, "gb": 1000 ** 3, "t": 1000 ** 4, "tb": 1000 ** 4,
          "kib": 1024, "mib": 1024 ** 2, "gib": 1024 ** 3, "tib": 1024 ** 4}


def parse_size(text: str, option: str) -> int:
    """``"500MB"``, ``"2GiB"`` or plain bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text or "")
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise InputError(f"{option} {text!r} is not a size", hint="use bytes or e.g. 500MB, 2GiB")
    return int(float(match.group(1)) * _UNITS[unit])


@dataclass(frozen=True)
class Limits:
    """Bounds an import enforces: total and per-member expanded size, and the expansion ratio
    (checked once more than ``ratio_floor`` bytes came out)."""

    max_size: int = 64 * GIB
    max_member_size: int = 32 * GIB
    max_ratio: float = 200.0
    ratio_floor: int = 64 * 1024 * 1024


def reject(path: str, why: str, hint: str = "the bundle was altered or crafted; do not use it"
           ) -> VerificationError:
    return VerificationError(f"member {path!r}: {why}", hint=hint)


def check_name(path: str) -> None:
    """A member name is relative, forward-slashed, UTF-8, and has no '.', '..' or empty parts."""
    if _plain(path):
        return
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise reject(_printable(path), "name is not valid UTF-8") from None
    if _CONTROL.search(path):
        raise reject(shown(path), "name holds control or bidirectional-override characters")
    encoded = len(path.encode("utf-8"))
    if encoded > MAX_NAME_BYTES:
        raise reject(shown(path), f"name is {encoded} bytes long, over the limit of "
                                  f"{MAX_NAME_BYTES}")
    if "\\" in path:
        raise reject(path, "name holds a backslash (a Windows path?)")
    if path.startswith("/") or _DRIVE.match(path):
        raise reject(path, "absolute path")
    parts = path.split("/")
    if ".." in parts:
        raise reject(path, "path leaves the bundle ('..')")
    if "." in parts or "" in parts:
        raise reject(path, "path is not normalised ('.' or empty components)")
    if len(parts) > MAX_DEPTH:
        raise reject(shown(path), f"path is {len(parts)} folders deep, over the limit of "
                                  f"{MAX_DEPTH}")
    longest = max(len(part.encode("utf-8")) for part in parts)
    if longest > MAX_COMPONENT_BYTES:
        raise reject(shown(path), f"a component of the name is {longest} bytes long, over "
                                  f"the limit of {MAX_COMPONENT_BYTES}")


def printable(text: object) -> str:
    """Text from a bundle as it may reach a terminal: characters that are not printable
    (controls, bidirectional overrides, lone surrogates) as escapes."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace"
                                                       ).decode("ascii") for c in text)


def shown(text: str, limit: int = 120) -> str:
    """A name as it can be put in a one-line message: cut to ``limit`` characters."""
    return text if len(text) <= limit else text[:limit] + f"...({len(text)} characters)"


def _plain(path: str) -> bool:
    """True for the common name that passes ``check_name`` as it stands: printable ASCII,
    no backslash, not absolute, no drive, no empty, '.' or '..' component. (Tests on the
    whole string, much cheaper than splitting it; other names get the full check.)"""
    return (len(path) <= MAX_COMPONENT_BYTES and path.isascii() and path.isprintable()
            and "\\" not in path and "//" not in path and "/./" not in path and "/../" not in path and path[1:2] != ":"
            and not path.startswith(("/", "./", "../")) and not path.endswith(("/", "/.", "/.."))
            and path not in ("", ".", ".."))


def _printable(path: str) -> str:
    """A name that is not valid UTF-8, as it can be shown: undecodable bytes of a tar name
    as replacement characters, other lone surrogates (from JSON escapes) escaped."""
    try:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return path.encode("utf-8", "backslashreplace").decode("utf-8")


def name_key(path: str) -> str:
    """The key two names collide on when extracted on a case-insensitive or normalising file
    system."""
    return unicodedata.normalize("NFC", path).casefold()


def check_manifest(manifest: Manifest, limits: Limits) -> None:
    """Every listed member is safe, inside its part, unique, no member is also another's
    folder, and the bundle is within the size and count limits."""
    seen: dict[str, str] = {}
    if sum(len(part.members) for part in manifest.parts) > MAX_MEMBERS:
        raise VerificationError(f"the bundle lists more than {MAX_MEMBERS} members",
                                hint="the bundle was altered or crafted; do not use it")
    check_program_ref(manifest.name, manifest.version, MANIFEST_NAME)
    for part in manifest.parts:
        for member in part.members:
            path = member.path
            check_name(path)
            if not belongs_to(path, part.name, manifest.format):
                raise reject(path, f"listed in part {part.name}, where a format "
                                   f"{manifest.format} bundle does not put it")
            key = name_key(path)
            if key in seen or path == MANIFEST_NAME:
                raise reject(path, f"duplicate name (collides with {seen.get(key)!r})")
            seen[key] = path
            if member.size > limits.max_member_size:
                raise reject(path, f"{member.size} bytes, over the per-member limit of "
                                   f"{limits.max_member_size}",
                             hint="raise --max-member-size if you trust this bundle")
    _check_folders(seen)
    if manifest.total_size > limits.max_size:
        raise VerificationError(f"the bundle holds {manifest.total_size} bytes, over the limit "
                                f"of {limits.max_size}",
                                hint="raise --max-size if you trust this bundle")


def _check_folders(seen: dict[str, str]) -> None:
    """No member's name is a folder of another (``code/a`` and ``code/a/b``): extracted, one
    of them could not be created. Each folder is visited once, however many files it holds."""
    folders: set[str] = set()
    for key in seen:
        folder = key.rpartition("/")[0]
        while folder and folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    clash = folders.intersection(seen)
    if clash:
        file = min(clash)
        inside = min(path for key, path in seen.items() if key.startswith(file + "/"))
        raise reject(shown(inside), f"lies under {seen[file]!r}, which is a file")


# The schema's rules for metadata.name and metadata.version (samepack/program/schema.json):
# a name is a DNS label, a version a plain word; neither can hold a path.
PROGRAM_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
PROGRAM_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,254}")  # one folder name


def check_program_ref(name: object, version: object, where: str,
                      error: type = VerificationError) -> None:
    """The one name rule for a program's name and version, wherever they come from (a bundle
    manifest, a program file, ``import --as``): what the schema allows, so it is one folder."""
    if not isinstance(name, str) or not PROGRAM_NAME.fullmatch(name):
        raise error(f"{where}: program name {shown(ascii(name))} is not allowed",
                    hint="a name is lower-case letters, digits and '-' (at most 63), like "
                         "'train-model'")
    if not isinstance(version, str) or not PROGRAM_VERSION.fullmatch(version):
        raise error(f"{where}: program version {shown(ascii(version))} is not allowed",
                    hint="a version starts with a letter or digit and holds letters, digits "
                         "and . _ + - only, like '1.2.0'")
