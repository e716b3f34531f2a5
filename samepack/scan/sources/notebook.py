"""Turn a notebook's code cells into plain Python, keeping line numbers, and collect the
``!pip install`` / ``%pip install`` lines as declared requirements.

Magics, shell escapes (with their backslash continuation lines) and help queries become ``pass``
at the same indentation, so the code around them still parses; cells run by another
interpreter (``%%bash``...) become blank. Each cell is parsed on its own by the reader, so one
broken cell loses only its own imports. nbformat 4 (``cells``) and 3 (``worksheets``, code in
``input``) are read.
"""

from __future__ import annotations

import json
import re
import shlex

NON_PYTHON_CELL_MAGICS = frozenset({
    "bash", "sh", "script", "html", "javascript", "js", "latex", "markdown", "perl", "ruby",
    "svg", "writefile", "file", "sql", "R", "system",
})
_PIP = re.compile(r"^(?:[!%]|\{[^}]*\}\s*)*\s*(?:(?:python[\d.]*|\{[^}]*\})\s+-m\s+)?pip3?\s+install\s+(?P<args>.*)$")
_SHELL_ASSIGN = re.compile(r"^[\w.,\s\[\]]+=\s*[!%]")
# pip options that take a value: the next word is not a requirement.
_PIP_VALUE_OPTIONS = frozenset({
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
    "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root",
    "--platform", "--python-version", "--implementation", "--abi", "--src", "--upgrade-strategy",
    "--progress-bar", "--trusted-host", "--proxy", "--timeout", "--retries", "--cache-dir",
})


def notebook_code(raw: bytes) -> tuple[str, list[tuple[str, int]]]:
    """Python text of the code cells (joined, one line per source line) and the pip installs.

    Raises ValueError when the file is not a notebook.
    """
    cells, installs = notebook_cells(raw)
    lines = [line for _, text in cells for line in text.splitlines()]
    return "\n".join(lines) + "\n", installs


def notebook_cells(raw: bytes) -> tuple[list[tuple[int, str]], list[tuple[str, int]]]:
    """Each code cell as Python (its first line's number in the joined text, its text) and
    the pip installs. Raises ValueError when the file is not a notebook."""
    try:
        document = json.loads(raw)
        cells = _code_cells(document)
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise ValueError(f"not a valid notebook ({error.__class__.__name__}: {error})") from None
    lines: list[str] = []
    found: list[tuple[int, str]] = []
    installs: list[tuple[str, int]] = []
    for source in cells:
        text = "".join(source) if isinstance(source, list) else str(source)
        start = len(lines) + 1
        _add_cell(text.splitlines(), lines, installs)
        found.append((start, "\n".join(lines[start - 1:]) + "\n"))
    return found, installs


def _code_cells(document: dict) -> list:
    """The sources of the code cells, for nbformat 4 and 3."""
    if "cells" in document:
        cells, key = document["cells"], "source"
    else:  # nbformat 3: cells inside worksheets, code under "input"
        cells = [c for sheet in document["worksheets"] for c in sheet.get("cells", [])]
        key = "input"
    if not isinstance(cells, list):
        raise TypeError("cells is not a list")
    return [c.get(key, "") for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]


def _add_cell(cell_lines: list[str], lines: list[str], installs: list[tuple[str, int]]) -> None:
    magic = cell_lines[0].strip() if cell_lines else ""
    if magic.startswith("%%") and magic[2:].split(" ", 1)[0] in NON_PYTHON_CELL_MAGICS:
        lines.extend("" for _ in cell_lines)
        return
    command: list[str] = []  # a shell or magic line continued with a trailing backslash
    for text in cell_lines:
        if command:
            command.append(text.strip())
            lines.append("")
            if not text.rstrip().endswith("\\"):
                _finish(" ".join(c.rstrip("\\") for c in command), command, lines, installs)
            continue
        stripped = text.strip()
        if stripped.startswith(("!", "%")) and stripped.endswith("\\"):
            command.append(stripped)
            lines.append(text[: len(text) - len(text.lstrip())] + "pass")
            continue
        lines.append(_python_line(text, len(lines) + 1, installs))
    if command:
        _finish(" ".join(c.rstrip("\\") for c in command), command, lines, installs)


def _finish(joined: str, command: list[str], lines: list[str], installs: list[tuple[str, int]]) -> None:
    """Record the pip installs of a continued command at its first line."""
    first = len(lines) - len(command) + 1
    installs.extend((req, first) for req in pip_install_requirements(joined))
    command.clear()


def _python_line(text: str, number: int, installs: list[tuple[str, int]]) -> str:
    stripped = text.strip()
    indent = text[: len(text) - len(text.lstrip())]
    if stripped.startswith(("!", "%")) or _SHELL_ASSIGN.match(stripped):
        installs.extend((req, number) for req in pip_install_requirements(stripped))
        return indent + "pass"
    if stripped.startswith("?") or (stripped.endswith("?") and not stripped.startswith("#")):
        return indent + "pass"
    return text


def pip_install_requirements(command: str) -> list[str]:
    """The requirements named by a ``!pip install ...`` line (options and files skipped)."""
    match = _PIP.match(command.lstrip("!%").strip())
    if not match:
        return []
    args = re.sub(r"(^|\s)#.*$", "", match.group("args"))  # a shell comment starts a word;
    try:  # inside one (``…#egg=clip``) it is part of the word
        words = shlex.split(args)
    except ValueError:
        words = args.split()
    found, skip_next = [], False
    for word in words:
        if skip_next:
            skip_next = False
        elif word.startswith("--"):
            skip_next = word in _PIP_VALUE_OPTIONS
        elif word.startswith("-"):
            skip_next = _takes_value(word)
        elif any(ch in word for ch in "{}$"):
            continue  # a notebook variable or shell expansion: unknown until it runs
        elif "://" in word:
            reference = direct_reference(word)
            if reference:
                found.append(reference)
        elif "/" not in word and not word.endswith(_NOT_NAMES):
            found.append(word)
    return found


_VCS = ("git+", "hg+", "svn+", "bzr+")
_DIST_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")


def direct_reference(url: str) -> str | None:
    """``NAME @ URL`` for an install from a repository or a wheel URL, named by its
    ``#egg=`` fragment, else by the repository's last path part (``…/ImageNetV2_pytorch.git@v1``
    -> ``ImageNetV2_pytorch``) or the wheel's file name. The name is a guess that only counts
    when an import maps to it (see ``join_dependencies``); a source archive URL names nothing."""
    base, _, fragment = url.partition("#")
    egg = re.search(r"(?:^|&)egg=([^&]+)", fragment)
    if egg:
        name = egg.group(1)
    elif url.startswith(_VCS):
        path = base.split("://", 1)[-1].split("/", 1)[-1]
        name = path.rstrip("/").rsplit("/", 1)[-1].split("@", 1)[0].removesuffix(".git")
    elif base.endswith(".whl"):
        name = base.rsplit("/", 1)[-1].split("-", 1)[0]
    else:
        return None
    return f"{name} @ {base}" if _DIST_NAME.match(name) else None


_NOT_NAMES = (".whl", ".tar.gz", ".zip", ".txt", ".in", ".cfg", ".toml")
_SHORT_VALUE_LETTERS = frozenset("rceift")


def _takes_value(word: str) -> bool:
    """Whether the next word is the value of a short-option cluster: ``-qr`` (``-q -r``)
    takes a file; in ``-rreq.txt`` the value is attached."""
    letters = word[1:]
    for index, letter in enumerate(letters):
        if letter in _SHORT_VALUE_LETTERS:
            return index == len(letters) - 1
    return False
