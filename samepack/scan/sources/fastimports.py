"""Imports of a large file without parsing all of it.

Lines that start an import statement (outside triple-quoted strings) are cut out with their
continuation lines and parsed with ``ast`` one by one; whether an import is optional comes from
the enclosing block headers, found by indentation. Prose that merely starts with "import" does
not parse and is dropped. Files that look like Python 2 are parsed in full to confirm it, so
they are reported as problems like in the full mode.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache

from samepack.scan.sources.facts import ImportUse, import_uses

_STARTS = ("import ", "import\t", "import\\", "import(", "from ", "from\t", "from\\")
# Python 2 statements; each pattern starts with a literal, which the regex engine finds fast.
_PY2 = (re.compile(r"print[ \t]+[\"'\w]"), re.compile(r"exec[ \t]+[\"']"),
        re.compile(r"except[ \t]+[\w.]+[ \t]*,[ \t]*\w+[ \t]*:"))
# A block header is recognised by its first word only: multi-line headers (``def f(\n...):``)
# do not end with a colon on their first line.
_HEADER = re.compile(r"(try|except|else|finally|if|elif|for|while|with|def|class|async)\b")
_TYPE_CHECKING = re.compile(r"if[ \t]+(?:\w+\.)?TYPE_CHECKING[ \t]*:")
# An availability check (python.is_availability_check): a name of that shape in the test.
_AVAILABILITY = re.compile(r"(?:el)?if\b[^#]*?\b(?:_?is_\w+_available|_\w+_available|"
                           r"_?[A-Z0-9_]+_AVAILABLE|find_spec)\b")
# A handler's last statement that fails instead of falling back (python.ends_in_failure).
_FAILS = re.compile(r"(?:raise\b|(?:sys\.|os\.)?(?:exit|quit|_exit)[ \t]*\()")
_IMPORT_ERROR = re.compile(r"\b(?:ImportError|ModuleNotFoundError)\b")
_MAX_CONTINUATION_LINES = 200


def fast_imports(text: str) -> list[ImportUse]:
    """Imports of ``text``; raises SyntaxError for a file that really is not Python 3."""
    strings = string_spans(text)
    if _looks_like_python2(text, strings):
        ast.parse(text)  # raises SyntaxError when it really is Python 2
    found: list[ImportUse] = []
    lines: list[str] | None = None
    line, counted_to, span = 1, 0, 0
    for start, indent in _candidate_lines(text):
        line += text.count("\n", counted_to, start)
        counted_to = start
        span = _skip_spans_before(strings, span, start)
        if span < len(strings) and strings[span][0] <= start:
            continue  # inside a triple-quoted string (docstring examples, prose)
        node_list = _parse_statement(text, start + indent)
        if not node_list:
            continue
        optional = False
        if indent:
            lines = lines if lines is not None else text.split("\n")
            optional = _is_optional(lines, line - 1, indent)
        for node in node_list:
            found.extend(import_uses(node, line, optional))
    return found


def string_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every triple-quoted string, in order. A triple quote opens a string only
    outside comments and one-line strings; inside a string only the same kind closes it."""
    marks = sorted([(p, '"') for p in _positions(text, '"""')]
                   + [(p, "'") for p in _positions(text, "'''")])
    spans: list[tuple[int, int]] = []
    open_kind, open_at = "", 0
    for position, kind in marks:
        if not open_kind:
            if _opens_here(text[text.rfind("\n", 0, position) + 1:position], kind):
                open_kind, open_at = kind, position
        elif kind == open_kind and position >= open_at + 3 and text[position - 1] != "\\":
            spans.append((open_at, position + 3))
            open_kind = ""
    if open_kind:
        spans.append((open_at, len(text)))
    return spans


def _opens_here(line_before: str, kind: str) -> bool:
    """Not in a comment, and not inside a one-line string of the other quote (``"'''"``)."""
    other = "'" if kind == '"' else '"'
    return "#" not in line_before and line_before.count(other) % 2 == 0


def _positions(text: str, needle: str) -> list[int]:
    found, position = [], text.find(needle)
    while position >= 0:
        found.append(position)
        position = text.find(needle, position + len(needle))
    return found


def _skip_spans_before(spans: list[tuple[int, int]], index: int, position: int) -> int:
    while index < len(spans) and spans[index][1] <= position:
        index += 1
    return index


def _line_starts_with(text: str, word: str, starts: tuple[str, ...]):
    """(line start, indentation) of each line whose first word begins with one of ``starts``,
    found through ``word`` (plain substring search is far faster than a multiline regex)."""
    seen = -1
    position = text.find(word)
    while position >= 0:
        begin = text.rfind("\n", 0, position) + 1
        if begin != seen:
            seen = begin
            head = text[begin:position]
            if not head.strip(" \t") and text.startswith(starts, position):
                yield begin, position - begin
        position = text.find(word, position + len(word))


def _candidate_lines(text: str) -> list[tuple[int, int]]:
    """Lines starting with ``import`` or ``from``, in order (``from x import y`` found by "from")."""
    found = set(_line_starts_with(text, "import", _STARTS)) | set(_line_starts_with(text, "from", _STARTS))
    return sorted(found)


def _looks_like_python2(text: str, strings: list[tuple[int, int]]) -> bool:
    """A print/exec statement or ``except E, e:`` starting a line outside triple-quoted strings."""
    for pattern in _PY2:
        for match in pattern.finditer(text):
            start = match.start()
            if text[text.rfind("\n", 0, start) + 1:start].strip(" \t"):
                continue  # not the first word of its line
            if not any(a <= start < b for a, b in strings):
                return True
    return False


def _parse_statement(text: str, start: int) -> list[ast.stmt]:
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    statement = text[start:end]
    for _ in range(_MAX_CONTINUATION_LINES):
        if not (statement.rstrip().endswith("\\") or statement.count("(") > statement.count(")")):
            break
        if end >= len(text):
            break
        following = text.find("\n", end + 1)
        following = len(text) if following < 0 else following
        statement, end = text[start:following], following
    return _parse_import(statement.strip())


@lru_cache(maxsize=65536)
def _parse_import(statement: str) -> list[ast.stmt]:
    """The same import line recurs across a tree (``import numpy as np``): parse it once."""
    try:
        body = ast.parse(statement).body
    except (SyntaxError, ValueError):
        return []
    return [node for node in body if isinstance(node, (ast.Import, ast.ImportFrom))]


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _is_optional(lines: list[str], index: int, indent: int) -> bool:
    """Walk the enclosing block headers upwards from ``lines[index]`` (0-based)."""
    current = indent
    for i in range(index - 1, -1, -1):
        if not lines[i][:current].strip():
            continue  # blank, or indented at least as deep as the block we are in
        stripped = lines[i].strip()
        if stripped.startswith("#"):
            continue
        level = _indent_of(lines[i])
        header = _HEADER.match(stripped)
        if not header:
            continue
        keyword = header.group(1)
        if keyword in ("def", "class", "async"):
            return False
        if keyword == "try" and _try_catches_import_error(lines, index, level,
                                                          _inside_def(lines, i, level)):
            return True
        if keyword == "except" and _IMPORT_ERROR.search(stripped):
            return True  # a fallback for when the first choice is missing
        if keyword == "if" and _TYPE_CHECKING.match(stripped):
            return True
        if keyword in ("if", "elif") and _AVAILABILITY.match(stripped):
            return True
        current = level
        if current == 0:
            return False
    return False


def _try_catches_import_error(lines: list[str], index: int, level: int, in_function: bool) -> bool:
    """Whether an ``except`` clause of the try at ``level`` below ``lines[index]`` catches it
    and falls back; at module level a handler that ends by raising or exiting does not."""
    for i in range(index + 1, len(lines)):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#") or _indent_of(lines[i]) > level:
            continue
        if not stripped.startswith("except"):
            return False
        if _IMPORT_ERROR.search(stripped) and (in_function or not _handler_fails(lines, i, level)):
            return True
    return False


def _inside_def(lines: list[str], index: int, level: int) -> bool:
    """Whether the line ``lines[index]`` (indented ``level``) sits in a function body."""
    if not level:
        return False
    current = level
    for i in range(index - 1, -1, -1):
        if not lines[i][:current].strip():
            continue
        stripped = lines[i].strip()
        if stripped.startswith("#"):
            continue
        header = _HEADER.match(stripped)
        if header:
            if header.group(1) in ("def", "async"):
                return True
            current = _indent_of(lines[i])
            if current == 0:
                return False
    return False


def _handler_fails(lines: list[str], header: int, level: int) -> bool:
    """Whether the last statement of the handler starting at ``lines[header]`` raises or
    exits: the last line at the handler body's own indentation (continuation lines are deeper)."""
    inline = lines[header].split(":", 1)[1].strip() if ":" in lines[header] else ""
    last, body_indent = inline, None
    for i in range(header + 1, len(lines)):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = _indent_of(lines[i])
        if indent <= level:
            break
        if body_indent is None:
            body_indent = indent
        if indent == body_indent:
            last = stripped
    return bool(_FAILS.match(last))
