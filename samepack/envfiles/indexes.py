"""Index options a project declares: ``--index-url``, ``--extra-index-url``, ``--find-links``
and ``--no-index`` lines in its own requirement files, and ``[tool.uv]`` / ``[[tool.uv.index]]``
in ``pyproject.toml``. They are carried into the lock and recorded in ``env.json`` so
``env create`` installs from the same places (relative find-links stay relative to the
project, so the record holds no path of this machine)."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path, PurePosixPath
from typing import Any

from samepack.envfiles.atomic import is_generated
from samepack.lock.indexes import IndexOptions, IndexPin
from samepack.scan.model import Scan

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_OPTION = re.compile(r"^(-i|--index-url|--extra-index-url|-f|--find-links|--no-index)(?:[=\s]+(\S+))?")
_INCLUDE = re.compile(r"^(?:-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)")


def declared_index(root: Path, files: list[str], pyproject: dict[str, Any] | None) -> IndexOptions:
    """The index options of the user's requirement ``files`` (and what they include) and of
    ``pyproject.toml``; samepack's own generated files are left out."""
    found = IndexOptions()
    seen: set[str] = set()
    for rel in files:
        found = found.merged(_from_requirements(root, rel, seen))
    return found.merged(_from_pyproject(pyproject or {}))


def _from_requirements(root: Path, rel: str, seen: set[str]) -> IndexOptions:
    path = root / rel
    if rel in seen or not path.is_file() or is_generated(path):
        return IndexOptions()
    seen.add(rel)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return IndexOptions()
    found = IndexOptions()
    base = PurePosixPath(rel).parent
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        include = _INCLUDE.match(line)
        if include:
            found = found.merged(_from_requirements(root, (base / include.group(1)).as_posix(), seen))
            continue
        match = _OPTION.match(line)
        if not match:
            continue
        option, value = match.group(1), (match.group(2) or "")
        value = shlex.split(value)[0] if value else ""
        if option == "--no-index":
            found = found.merged(IndexOptions(no_index=True))
        elif value and option in ("-i", "--index-url"):
            found = found.merged(IndexOptions(index_url=value))
        elif value and option == "--extra-index-url":
            found = found.merged(IndexOptions(extra_index_urls=(value,)))
        elif value:
            link = value if "://" in value else (base / value).as_posix()
            found = found.merged(IndexOptions(find_links=(link,)))
    return found


def _from_pyproject(pyproject: dict[str, Any]) -> IndexOptions:
    uv = ((pyproject.get("tool") or {}).get("uv") or {})
    if not isinstance(uv, dict):
        return IndexOptions()
    found = IndexOptions(index_url=_text(uv.get("index-url")),
                         extra_index_urls=_texts(uv.get("extra-index-url")),
                         find_links=_texts(uv.get("find-links")),
                         no_index=bool(uv.get("no-index")))
    explicit: dict[str, str] = {}
    for entry in uv.get("index") or []:
        url = _text(entry.get("url")) if isinstance(entry, dict) else None
        if not url:
            continue
        if entry.get("default"):
            found = found.merged(IndexOptions(index_url=url))
        elif entry.get("format") == "flat":
            found = found.merged(IndexOptions(find_links=(url,)))
        elif entry.get("explicit") and _text(entry.get("name")):
            explicit[entry["name"]] = url  # only for the packages its sources pin to it
        else:
            found = found.merged(IndexOptions(extra_index_urls=(url,)))
    return found.merged(IndexOptions(pinned=_pins(uv.get("sources"), explicit)))


def _pins(sources: Any, explicit: dict[str, str]) -> tuple[IndexPin, ...]:
    """``[tool.uv.sources]`` entries naming an explicit index (one entry, or a list with
    markers), in the order written; an explicit index no source names is used by nothing."""
    pins: list[IndexPin] = []
    for package, entries in (sources.items() if isinstance(sources, dict) else ()):
        for entry in entries if isinstance(entries, list) else [entries]:
            index = entry.get("index") if isinstance(entry, dict) else None
            if isinstance(index, str) and index in explicit:
                pins.append(IndexPin(package, explicit[index], _text(entry.get("marker"))))
    return tuple(pins)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _texts(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(v for v in value or () if isinstance(v, str) and v)


def project_index(scan: Scan, root: Path) -> IndexOptions:
    """The index options the project's own files declare."""
    files = {d.evidence.path for d in scan.declared
             if d.ecosystem == "pypi" and d.evidence.path.endswith((".txt", ".in"))}
    return declared_index(root, sorted(files | set(requirement_files(root))), _pyproject(root))


def files_index(root: Path) -> IndexOptions:
    """What :func:`project_index` finds without a scan: the options of the project's
    requirement files (and what they include) and of ``pyproject.toml``, as written (literal
    credentials and all: for the tool's environment on this machine, never for a record)."""
    return declared_index(root, requirement_files(root), _pyproject(root))


def requirement_files(root: Path) -> list[str]:
    """The requirement files the scan reads: ``requirements*.txt|in`` and
    ``*requirements.txt`` at the root, every ``.txt`` / ``.in`` in ``requirements/``."""
    found = []
    for folder, prefix in ((root, ""), (root / "requirements", "requirements/")):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            name = path.name.lower()
            if (path.is_file() and path.suffix in (".txt", ".in")
                    and (prefix or name.startswith("requirements")
                         or name.endswith("requirements.txt"))):
                found.append(prefix + path.name)
    return found


def _pyproject(root: Path) -> dict | None:
    try:
        return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # the scan reports an invalid pyproject.toml
