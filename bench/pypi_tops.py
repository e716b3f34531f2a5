"""The top-level modules a distribution on PyPI ships, read from its own files without
downloading them: PyPI's JSON API names the newest release's files, then HTTP range reads fetch
a wheel's end-of-central-directory record and its central directory, whose file names are what
the wheel installs (``pkg/…``, ``mod.py``, ``mod.cpython-311-x86_64-linux-gnu.so``,
``NAME.data/purelib/pkg/…``). A release with no wheel falls back to its source archive when
that is small (its ``*.egg-info/top_level.txt``, else the packages at its root or under
``src/``).

One JSON request and two or three range reads per distribution, every answer (a 404 too) kept
under ``$SAMEPACK_BENCH_CACHE/pypi-tops/`` (default ``bench/out/cache``), so later runs send
nothing; ``SAMEPACK_BENCH_OFFLINE=1`` answers from that cache only. Every read has a timeout
and a size cap; a server that ignores the range is not read further.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import sys
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from packaging.utils import canonicalize_name

HERE = Path(__file__).resolve().parent
TIMEOUT_SECONDS = 20
MAX_JSON_BYTES = 32 << 20  # torch's whole release history is under 1 MB
MAX_CENTRAL_DIRECTORY_BYTES = 32 << 20  # a wheel of 100,000 files lists in about 10 MB
MAX_SDIST_BYTES = 20 << 20
MAX_MEMBERS = 100_000  # of a source archive
MAX_MEMBER_BYTES = 1 << 20  # read of one member (top_level.txt)
MAX_META_DEPTH = 2
CACHE_SCHEMA = 2
TAIL_BYTES = 65_536 + 22  # the end record and the longest comment a zip can have
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_CENTRAL_ENTRY = b"PK\x01\x02"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Unreadable(Exception):
    """The server's answer cannot be read within the bounds (not cached: a later run retries)."""


def cache_dir() -> Path:
    return Path(os.environ.get("SAMEPACK_BENCH_CACHE") or HERE / "out" / "cache") / "pypi-tops"


def index_url() -> str:
    return os.environ.get("SAMEPACK_BENCH_PYPI", "https://pypi.org").rstrip("/")


def pypi_tops(distribution: str, depth: int = 0) -> set[str] | None:
    """Top-level module names of ``distribution``'s newest release on PyPI; None when it is not
    there, has no file that can be read within the bounds, or the network does not answer.
    A release that ships no module of its own (a metapackage) provides what its unconditional
    requirements provide."""
    name = canonicalize_name(distribution)
    cached = cache_dir() / f"{name}.json"
    try:
        entry = json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        entry = None
    if not isinstance(entry, dict) or entry.get("schema") != CACHE_SCHEMA:
        entry = None
    if entry is None:
        if os.environ.get("SAMEPACK_BENCH_OFFLINE"):
            return None
        try:
            entry = _look_up(name)
        except (Unreadable, OSError, ValueError, KeyError, TypeError, AttributeError, EOFError,
                tarfile.TarError, zipfile.BadZipFile) as error:  # a hostile or broken answer: unverified
            print(f"pypi_tops: {name}: {error}", file=sys.stderr)
            return None
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".part")
        partial.write_text(json.dumps(entry, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        partial.replace(cached)
    tops = set(entry.get("tops") or ())
    if not tops and entry.get("metapackage") and depth < MAX_META_DEPTH:  # tensorrt
        for requirement in entry.get("requires") or ():
            tops |= pypi_tops(requirement, depth + 1) or set()
    return tops or None


def _look_up(name: str) -> dict:
    json_url = f"{index_url()}/pypi/{name}/json"
    try:
        release = json.loads(_get(json_url, MAX_JSON_BYTES))
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return {"schema": CACHE_SCHEMA, "distribution": name, "tops": None, "why": "not on PyPI"}
        raise
    except ValueError as error:
        raise Unreadable(f"PyPI's answer is not JSON ({error})") from None
    version = str((release.get("info") or {}).get("version", ""))
    files = [f for f in release.get("urls", []) if isinstance(f, dict) and not f.get("yanked")]
    wheels = sorted((f for f in files if str(f.get("filename", "")).endswith(".whl")),
                    key=_wheel_preference)
    info = release.get("info") or {}
    base = {"schema": CACHE_SCHEMA, "distribution": name, "version": version,
            "summary": str(info.get("summary") or "")[:200],
            "requires": unconditional_requirements(info.get("requires_dist") or [])}
    if wheels:
        wheel = wheels[0]
        names = central_directory_names(urllib.parse.urljoin(json_url, str(wheel["url"])),
                                        int(wheel["size"]))
        tops = sorted(wheel_tops(names))
        return {**base, "file": wheel["filename"], "tops": tops, "metapackage": not tops}
    sdists = [f for f in files if str(f.get("filename", "")).endswith((".tar.gz", ".zip"))
              and int(f.get("size", MAX_SDIST_BYTES + 1)) <= MAX_SDIST_BYTES]
    if sdists:
        sdist = sdists[0]
        data = _get(urllib.parse.urljoin(json_url, str(sdist["url"])), MAX_SDIST_BYTES)
        members = _archive_members(sdist["filename"], data)
        tops = sorted(sdist_tops(members))
        return {**base, "file": sdist["filename"], "tops": tops,
                "metapackage": not tops and not _ships_code(members)}
    return {**base, "tops": None, "why": "no wheel, and no source archive under "
            f"{MAX_SDIST_BYTES >> 20} MB"}


def unconditional_requirements(requires_dist: list[str]) -> list[str]:
    """Canonical names of the requirements that hold without an extra (``numpy; extra ==
    "numpy"`` is left out; platform markers are kept: one of them installs)."""
    from packaging.requirements import InvalidRequirement, Requirement

    names = set()
    for text in requires_dist:
        try:
            requirement = Requirement(str(text))
        except InvalidRequirement:
            continue
        if requirement.marker is None or "extra" not in str(requirement.marker):
            names.add(canonicalize_name(requirement.name))
    return sorted(names)


def _wheel_preference(wheel: dict) -> tuple[int, str]:
    """Pure wheels first, then Linux x86-64 ones (the files of one release rarely differ by
    platform), then the rest; by file name within each, so the choice is stable."""
    filename = str(wheel.get("filename", ""))
    rank = 0 if filename.endswith("-none-any.whl") else 1 if "x86_64" in filename and \
        "linux" in filename else 2
    return rank, filename


def _get(url: str, cap: int, byte_range: tuple[int, int] | None = None) -> bytes:
    """The body of ``url`` (or of bytes ``byte_range``, both ends included), at most ``cap``
    bytes; a range the server does not honour (no 206) is an error, never a whole download."""
    request = urllib.request.Request(url, headers={"User-Agent": "samepack-bench (import truth)"})
    if byte_range:
        request.add_header("Range", f"bytes={byte_range[0]}-{byte_range[1]}")
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        if byte_range and response.status != 206:
            raise Unreadable(f"{url}: the server ignored the byte range (HTTP {response.status})")
        data = response.read(cap + 1)
    if len(data) > cap:
        raise Unreadable(f"{url}: more than {cap} bytes")
    return data


def central_directory_names(url: str, size: int) -> list[str]:
    """The member names of the zip at ``url`` (``size`` bytes long), from its central
    directory alone: one range read of the tail, one more when the directory is longer."""
    if size < 22:
        raise Unreadable(f"{url}: {size} bytes is too short for a zip")
    tail_start = max(0, size - TAIL_BYTES)
    tail = _get(url, TAIL_BYTES, (tail_start, size - 1))
    end = tail.rfind(_EOCD)
    if end < 0 or len(tail) - end < 22:
        raise Unreadable(f"{url}: no zip end-of-central-directory record in the last {len(tail)} bytes")
    _, _, _, _, entries, cd_size, cd_offset, _ = struct.unpack("<4sHHHHIIH", tail[end:end + 22])
    if 0xFFFFFFFF in (cd_size, cd_offset) or entries == 0xFFFF:
        entries, cd_size, cd_offset = _zip64_directory(url, tail, tail_start, end)
    if cd_size > MAX_CENTRAL_DIRECTORY_BYTES or cd_offset + cd_size > size:
        raise Unreadable(f"{url}: central directory of {cd_size} bytes at {cd_offset} is out of bounds")
    if cd_offset >= tail_start:
        directory = tail[cd_offset - tail_start:cd_offset - tail_start + cd_size]
    else:
        directory = _get(url, cd_size, (cd_offset, cd_offset + cd_size - 1))
    return _entry_names(directory, entries, url)


def _zip64_directory(url: str, tail: bytes, tail_start: int, end: int) -> tuple[int, int, int]:
    locator = end - 20
    if locator < 0 or tail[locator:locator + 4] != _ZIP64_LOCATOR:
        raise Unreadable(f"{url}: zip64 sizes without a zip64 locator")
    record_offset = struct.unpack("<Q", tail[locator + 8:locator + 16])[0]
    if record_offset >= tail_start:
        record = tail[record_offset - tail_start:record_offset - tail_start + 56]
    else:
        record = _get(url, 56, (record_offset, record_offset + 55))
    if len(record) < 56 or record[:4] != _ZIP64_EOCD:
        raise Unreadable(f"{url}: no zip64 end-of-central-directory record at {record_offset}")
    _, _, _, _, _, _, _, entries, cd_size, cd_offset = struct.unpack("<4sQHHIIQQQQ", record)
    return entries, cd_size, cd_offset


def _entry_names(directory: bytes, entries: int, url: str) -> list[str]:
    names, at = [], 0
    for _ in range(entries):
        header = directory[at:at + 46]
        if len(header) < 46 or header[:4] != _CENTRAL_ENTRY:
            raise Unreadable(f"{url}: central directory entry {len(names)} is damaged")
        flags = struct.unpack("<H", header[8:10])[0]
        name_length, extra_length, comment_length = struct.unpack("<HHH", header[28:34])
        raw = directory[at + 46:at + 46 + name_length]
        names.append(raw.decode("utf-8" if flags & 0x800 else "cp437", "replace"))
        at += 46 + name_length + extra_length + comment_length
    return names


def wheel_tops(names: list[str]) -> set[str]:
    """Importable top-level names among a wheel's member names: first path parts, ``.py``
    modules and extension modules at the root, and the same below ``*.data/purelib`` or
    ``platlib`` (which install beside them); metadata, scripts and headers are not modules."""
    tops = set()
    for name in names:
        parts = name.split("/")
        if len(parts) > 2 and parts[0].endswith(".data") and parts[1] in ("purelib", "platlib"):
            parts = parts[2:]
        elif parts[0].endswith((".dist-info", ".data")):
            continue
        top = parts[0] if len(parts) > 1 else _module_of_file(parts[0])
        if top and _IDENTIFIER.match(top) and top != "__pycache__":
            tops.add(top)
    return tops


def _module_of_file(filename: str) -> str | None:
    if filename.endswith(".py"):
        return filename[:-3]
    if filename.endswith((".so", ".pyd")):
        return filename.split(".", 1)[0]
    return None


def sdist_tops(members: dict[str, Callable[[], bytes]]) -> set[str]:
    """A source archive's top-level modules: its ``*.egg-info/top_level.txt`` when it ships
    one (setuptools writes it from the real package list), else the packages and modules at
    its root or under ``src/`` (less ``setup.py`` and the like)."""
    for path, read in members.items():
        parts = path.split("/")
        if len(parts) == 3 and parts[1].endswith(".egg-info") and parts[2] == "top_level.txt":
            return {line.strip() for line in read().decode("utf-8", "replace").splitlines()
                    if _IDENTIFIER.match(line.strip())}
    tops = set()
    for path in members:
        parts = path.split("/")[1:]  # below the archive's own folder
        if parts[:1] == ["src"]:
            parts = parts[1:]
        if len(parts) == 2 and parts[1] == "__init__.py":
            tops.add(parts[0])
        elif len(parts) == 1 and parts[0].endswith(".py") and parts[0] not in ("setup.py", "conftest.py"):
            tops.add(parts[0][:-3])
    return {top for top in tops if _IDENTIFIER.match(top) and top not in ("tests", "test", "docs")}


def _ships_code(members: dict[str, Callable[[], bytes]]) -> bool:
    """Whether a source archive holds Python code beyond its build script: if it does not,
    it only pulls in other distributions (a metapackage)."""
    return any(path.endswith(".py") and path.split("/")[-1] not in ("setup.py", "conftest.py")
               for path in members)


def _archive_members(filename: str, data: bytes) -> dict[str, Callable[[], bytes]]:
    """Member path -> a reader of its first bytes (at most MAX_MEMBER_BYTES); nothing is
    extracted to disk, and an archive of more than MAX_MEMBERS members is not read."""
    members: dict[str, Callable[[], bytes]] = {}
    if filename.endswith(".zip"):
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise Unreadable(f"{filename}: more than {MAX_MEMBERS} members")
        for info in infos:
            if not info.is_dir():
                members[info.filename] = lambda info=info: archive.open(info).read(MAX_MEMBER_BYTES)
        return members
    archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")
    for count, member in enumerate(archive, start=1):  # streamed: a bomb stops at the cap
        if count > MAX_MEMBERS:
            raise Unreadable(f"{filename}: more than {MAX_MEMBERS} members")
        if member.isfile():
            members[member.name] = lambda member=member: archive.extractfile(member).read(MAX_MEMBER_BYTES)
    return members
