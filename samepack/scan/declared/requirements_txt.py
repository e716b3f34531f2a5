"""pip requirement files: ``requirements*.txt`` / ``*.in`` with ``-r`` includes, markers, extras
and comments; editables, constraints and index options are skipped. Lines that are not
requirements become problems, never errors."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from samepack.scan.model import DeclaredRequirement, Evidence, Problem

_INCLUDE = re.compile(r"^(?:-r|--requirement)(?:\s+|=)(\S+)")
_EGG = re.compile(r"#egg=([A-Za-z0-9_.\-]+)")
_COMMENT = re.compile(r"(^|\s)#.*$")
_GROUP_WORDS = {"dev": "dev", "develop": "dev", "test": "test", "tests": "test", "testing": "test",
                "lint": "dev", "docs": "docs", "doc": "docs", "ci": "dev"}


def file_group(rel: str) -> str | None:
    """``requirements-dev.txt`` -> "dev", ``requirements/docs.in`` -> "docs", else None."""
    words = re.split(r"[-_./]", PurePosixPath(rel).name.lower())
    for word in words:
        if word in _GROUP_WORDS:
            return _GROUP_WORDS[word]
    return None


def parse_requirement_line(text: str, evidence: Evidence, group: str | None,
                           ecosystem: str = "pypi") -> DeclaredRequirement | str | None:
    """One requirement line -> a requirement, None for lines to skip, or a problem message."""
    line = _COMMENT.sub("", text).strip()
    if not line or line.startswith("-"):
        return None
    line = re.split(r"\s+--?[a-z]", line, maxsplit=1)[0].strip()  # per-requirement options (--hash)
    if "://" in line and " @ " not in line:
        egg = _EGG.search(text)
        if not egg:
            return None
        return DeclaredRequirement(canonicalize_name(egg.group(1)), line, ecosystem, evidence, group)
    try:
        requirement = Requirement(line)
    except InvalidRequirement as error:
        return f"line {evidence.line}: not a requirement ({error})"
    return DeclaredRequirement(canonicalize_name(requirement.name), str(requirement), ecosystem,
                               evidence, group)


def parse_requirements_file(root: Path, rel: str, problems: list[Problem],
                            seen: set[str] | None = None) -> list[DeclaredRequirement]:
    """Requirements of ``root/rel`` and of the files it includes with ``-r`` (once each)."""
    seen = set() if seen is None else seen
    if rel in seen:
        return []
    seen.add(rel)
    try:
        text = (root / rel).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(rel, f"unreadable: {error}"))
        return []
    found: list[DeclaredRequirement] = []
    group = file_group(rel)
    for number, line in _logical_lines(text):
        include = _INCLUDE.match(line.strip())
        if include:
            target = (PurePosixPath(rel).parent / include.group(1)).as_posix()
            found.extend(parse_requirements_file(root, _normalise(target), problems, seen))
            continue
        parsed = parse_requirement_line(line, Evidence(rel, number), group)
        if isinstance(parsed, str):
            problems.append(Problem(rel, parsed))
        elif parsed:
            found.append(parsed)
    return found


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with backslash continuations joined, each with the number of its first line."""
    joined: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append((start, pending + line))
        pending = ""
    if pending:
        joined.append((start, pending))
    return joined


def _normalise(rel: str) -> str:
    parts: list[str] = []
    for part in PurePosixPath(rel).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)
