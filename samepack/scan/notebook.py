"""Turn a notebook's code cells into plain Python, keeping line numbers, and collect the
``!pip install`` / ``%pip install`` lines as declared requirements.

Magics, shell escapes and help queries become ``pass`` at the same indentation, so the code
around them still parses; cells run by another interpreter (``%%bash``...) become blank.
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
    try:
        document = json.loads(raw)
        cells = document["cells"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"not a valid notebook ({error.__class__.__name__}: {error})") from None
    lines: list[str] = []
    installs: list[tuple[str, int]] = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        _add_cell(text.splitlines(), lines, installs)
    return "\n".join(lines) + "\n", installs


def _add_cell(cell_lines: list[str], lines: list[str], installs: list[tuple[str, int]]) -> None:
    magic = cell_lines[0].strip() if cell_lines else ""
    if magic.startswith("%%") and magic[2:].split(" ", 1)[0] in NON_PYTHON_CELL_MAGICS:
        lines.extend("" for _ in cell_lines)
        return
    for text in cell_lines:
        lines.append(_python_line(text, len(lines) + 1, installs))


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
    try:
        words = shlex.split(match.group("args"), comments=True)
    except ValueError:
        words = match.group("args").split()
    found, skip_next = [], False
    for word in words:
        if skip_next:
            skip_next = False
        elif word.startswith("-"):
            skip_next = word in _PIP_VALUE_OPTIONS
        elif not any(ch in word for ch in "/{}$") and not word.endswith((".whl", ".tar.gz", ".zip")):
            found.append(word)
    return found
