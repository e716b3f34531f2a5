"""The truth the scan precision is measured against, built without samepack's scanner or its
import table: which third-party top-level modules a project's code imports, and which
distribution really provides each.

- imports: the top-level names of absolute imports (``scan_corpus.imported_tops``, a plain
  ``ast`` walk), minus ``sys.stdlib_module_names`` and minus the project's own modules (a
  ``NAME.py`` or ``NAME/`` package anywhere in the tree that does not itself import ``NAME``),
  except names a declared distribution provides (then the declared files say it is
  third-party);
- providers: the top-level modules a distribution ships, read from its own files: the
  installed distribution's ``top_level.txt`` or ``RECORD``, else the ``RECORD`` of a wheel
  unpacked in uv's cache, else the file names of its newest wheel on PyPI, read without
  downloading the wheel (``pypi_tops``). A distribution found nowhere (not on PyPI, or only as
  a source archive too large to read) cannot be checked; it counts as wrong and is listed as
  unverified.

A predicted name is right when it provides one of the project's third-party imports.
Python 2 modules (``urllib2``, ``StringIO``) are not in 3.x's stdlib list, but no real
distribution provides them, so a tool that predicts a name for them is counted wrong.
"""

from __future__ import annotations

import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from packaging.utils import canonicalize_name

from pypi_tops import pypi_tops


def own_modules(root: Path, files) -> set[str]:
    """Names the project's own files give an import: every ``NAME.py`` and package ``NAME/``,
    except a ``NAME.py`` (or ``NAME/__init__.py``) that itself imports ``NAME``: a wrapper named
    after the package it wraps (mmcv's ``hooks/logger/wandb.py``, timm's ``utils/onnx.py``)."""
    names: set[str] = set()
    for path in files(root):
        if path.suffix == ".py":
            name = path.stem if path.name != "__init__.py" else path.parent.name
            if not _imports_itself(path, name):
                names.add(name)
    return names


def _imports_itself(path: Path, name: str) -> bool:
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == name for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and not node.level and node.module \
                and node.module.split(".")[0] == name:
            return True
    return False


def third_party_imports(tops: set[str], own: set[str], declared: set[str]) -> set[str]:
    declared_tops = {top for dist in declared
                     for top in (providers(dist) or {dist.replace("-", "_")})}
    return {top for top in tops
            if top not in sys.stdlib_module_names and top != "__future__"
            and (top not in own or top in declared_tops)}


def _tops_of_record(lines: list[str]) -> set[str]:
    tops = set()
    for line in lines:
        path = line.split(",", 1)[0]
        first = path.split("/", 1)[0]
        if not first or first.endswith((".dist-info", ".data")) or first == "__pycache__" \
                or first.startswith(".."):
            continue
        if "/" in path:
            tops.add(first)
        elif first.endswith(".py"):
            tops.add(first[:-3])
        elif first.endswith((".so", ".pyd")):
            tops.add(first.split(".", 1)[0])
    return tops


@lru_cache(maxsize=1)
def _uv_cache_records() -> dict[str, set[str]]:
    try:
        cache = Path(subprocess.run(["uv", "cache", "dir"], capture_output=True, text=True,
                                    timeout=30).stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        return {}
    found: dict[str, set[str]] = {}
    for record in cache.glob("archive-v*/*/*.dist-info/RECORD"):
        name = canonicalize_name(record.parent.name.rsplit("-", 1)[0])
        try:
            tops = _tops_of_record(record.read_text(encoding="utf-8").splitlines())
        except (OSError, UnicodeDecodeError):
            continue
        found.setdefault(name, set()).update(tops)
    return found


@lru_cache(maxsize=None)
def providers(distribution: str) -> frozenset[str] | None:
    """The top-level modules ``distribution`` ships, from its own files; None if not found."""
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        top_level = dist.read_text("top_level.txt")
        if top_level:
            return frozenset(line.strip() for line in top_level.splitlines() if line.strip())
        record = dist.read_text("RECORD")
        if record:
            return frozenset(_tops_of_record(record.splitlines()))
    cached = _uv_cache_records().get(canonicalize_name(distribution))
    if cached:
        return frozenset(cached)
    remote = pypi_tops(distribution)
    return frozenset(remote) if remote else None


def judge(predicted: list[str], third_party: set[str],
          declared: set[str]) -> tuple[list[str], list[str], list[str]]:
    """(right, wrong, unverified) among the predicted distribution names. A declared name found
    nowhere here is right when its own name is one of the imports."""
    right, wrong, unverified = [], [], []
    for name in predicted:
        provided = providers(name)
        if provided is None and name in declared and name.replace("-", "_") in third_party:
            right.append(name)
        elif provided is None:
            unverified.append(name)
        elif provided & third_party:
            right.append(name)
        else:
            wrong.append(name)
    return right, wrong, unverified
