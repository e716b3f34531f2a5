"""pip requirement files: ``requirements*.txt`` / ``*.in`` with ``-r`` includes, markers, extras
and comments; editables, constraints and index options are skipped. Lines that are not
requirements become problems, never errors."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from samepack.scan.model import DeclaredRequirement, Evidence, Problem
from samepack.scan.names import canonical_name

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
        return DeclaredRequirement(canonical_name(egg.group(1)), line, ecosystem, evidence, group)
    plain = plain_requirement(line)
    if plain:
        return DeclaredRequirement(canonical_name(plain[0]), plain[1], ecosystem, evidence, group)
    from packaging.requirements import InvalidRequirement, Requirement  # markers, URLs, odd forms

    try:
        requirement = Requirement(line)
    except InvalidRequirement as error:
        return f"line {evidence.line}: not a requirement ({error})"
    return DeclaredRequirement(canonical_name(requirement.name), str(requirement), ecosystem,
                               evidence, group)


_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_RELEASE = r"\d+(?:\.\d+)*"
_PUBLIC = _RELEASE + r"(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?"
_LOCAL = r"(?:\+[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*)?"  # only == and != may name a local version
_SPECIFIER = (rf"\s*(?:(?:==|!=)\s*{_RELEASE}\.\*|(?:===|==|!=)\s*{_PUBLIC}{_LOCAL}"
              rf"|~=\s*\d+(?:\.\d+)+(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?"
              rf"|(?:>=|<=|>|<)\s*{_PUBLIC})\s*")
_PLAIN = re.compile(rf"^(?P<name>{_NAME})\s*(?:\[(?P<extras>\s*{_NAME}\s*(?:,\s*{_NAME}\s*)*)\])?"
                    rf"\s*(?P<specs>{_SPECIFIER}(?:,{_SPECIFIER})*)?$")


def plain_requirement(line: str) -> tuple[str, str] | None:
    """(name, requirement as ``str(packaging Requirement)`` writes it) for the common line with
    only a name, extras and version specifiers; None for anything else (markers, URLs,
    parentheses), which ``packaging`` parses. Most files hold only plain lines, so a scan
    seldom pays for importing ``packaging``'s full PEP 508 parser."""
    match = _PLAIN.match(line)
    if not match:
        return None
    text = match.group("name")
    if match.group("extras"):
        text += "[" + ",".join(sorted({e.strip() for e in match.group("extras").split(",")})) + "]"
    if match.group("specs"):
        text += ",".join(sorted({re.sub(r"\s+", "", spec) for spec in match.group("specs").split(",")}))
    return match.group("name"), text


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
