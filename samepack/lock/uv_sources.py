"""Packages pinned to an explicit index, resolved as uv resolves them.

``[[tool.uv.index]]`` with ``explicit = true`` serves only the packages ``[tool.uv.sources]``
pins to it (``torch = { index = "pytorch" }``). Given to ``uv pip compile`` as an extra index,
it would serve every package, and with uv's first-index strategy before the default index: a
same-named package there (a decoy) would win. So when the request has such pins, uv compiles a
``pyproject.toml`` written in the scratch directory instead of ``requirements.in``: the
requirements as its dependencies, the pins as its sources, each explicit index by a name of
its own, so uv asks that index for those packages and for nothing else. Credentials in an
index URL go to uv's environment as ``UV_INDEX_<NAME>_USERNAME`` / ``_PASSWORD``, never into
the file.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import unquote

from samepack.lock.credentials import expanded
from samepack.lock.indexes import IndexPin
from samepack.lock.model import LockRequest
from samepack.lock.userinfo import user_info

SOURCES_INPUT = "pyproject.toml"


def write_sources_input(request: LockRequest, scratch: Path) -> dict[str, str] | None:
    """Write ``pyproject.toml`` for the request's pinned packages into ``scratch``; the
    environment uv then runs with (None when nothing is pinned: ``requirements.in`` is the
    input)."""
    pins = request.index.pinned
    if not pins:
        return None
    names: dict[str, str] = {}  # index URL -> the name it has in the file
    for pin in pins:
        names.setdefault(pin.url, f"pinned-{len(names) + 1}")
    environment = dict(os.environ)
    indexes = []
    for url, name in names.items():
        bare, user, password = _split_credentials(expanded(url))
        prefix = "UV_INDEX_" + re.sub(r"[^A-Z0-9]", "_", name.upper())
        if user:
            environment[f"{prefix}_USERNAME"] = user
        if password:
            environment[f"{prefix}_PASSWORD"] = password
        indexes.append(f"[[tool.uv.index]]\nname = {_toml(name)}\nurl = {_toml(bare)}\n"
                       "explicit = true\n")
    lines = ['[project]\nname = "samepack-lock"\nversion = "0"\ndependencies = [\n',
             *(f"    {_toml(requirement)},\n" for requirement in request.requirements),
             "]\n\n[tool.uv.sources]\n"]
    for package, entries in _by_package(pins, names).items():
        lines.append(f"{_toml(package)} = [{', '.join(entries)}]\n")
    (scratch / SOURCES_INPUT).write_text("".join(lines) + "\n" + "\n".join(indexes),
                                         encoding="utf-8")
    return environment


def _by_package(pins: tuple[IndexPin, ...], names: dict[str, str]) -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for pin in pins:
        marker = f", marker = {_toml(pin.marker)}" if pin.marker else ""
        entries.setdefault(pin.package, []).append(f"{{ index = {_toml(names[pin.url])}{marker} }}")
    return entries


def _split_credentials(url: str) -> tuple[str, str, str]:
    """``url`` without its user information, and its user name and password (decoded)."""
    info = user_info(url)
    if info is None:
        return url, "", ""
    return info.url_with(None), unquote(info.user), unquote(info.password or "")


def _toml(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)
