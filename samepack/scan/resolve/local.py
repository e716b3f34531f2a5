"""The project's own modules: what an import finds before site-packages does.

Project-wide: top-level modules and packages of the root and of ``src/``. Per file: the
modules beside it and beside its parent folders (a script's directory is first on
``sys.path``, and ``python -m app.main`` runs from a parent). A folder whose name is not an
identifier (``04-deployment``) cannot be imported itself, but the modules inside it still can.
Relative imports are always local.

A folder without ``__init__.py`` is a namespace package, which Python uses only when no
installed package has the name: it is local only when no distribution is known to provide
the name (the caller decides, see :meth:`LocalModules.kind`). The same holds for a module
elsewhere in the tree (tests that extend ``sys.path`` to import ``run_glue`` from
``examples/``). A file that imports its own name
(``from datasets import load_dataset`` in ``datasets.py``) means the installed package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

SOURCE_ROOTS = ("", "src")
LocalKind = Literal["local", "namespace"]


@dataclass
class LocalModules:
    by_directory: dict[str, set[str]] = field(default_factory=dict)  # directory -> names there
    packages: set[tuple[str, str]] = field(default_factory=set)  # (directory, name) with __init__
    # (directory, name) for names that are only folders without __init__.py there
    namespaces: set[tuple[str, str]] = field(default_factory=set)
    anywhere: set[str] = field(default_factory=set)  # every importable name in the tree

    def kind(self, module: str, importer: str) -> LocalKind | None:
        """"local" for the project's own module, "namespace" for a folder without
        ``__init__.py`` of that name (local unless installed), None otherwise."""
        top = module.split(".", 1)[0]
        directory, _, filename = importer.rpartition("/")
        directory = directory or "."
        own = filename.removesuffix(".py") if filename.endswith(".py") else None
        found: LocalKind | None = None
        for place in _ancestors(directory) + [root or "." for root in SOURCE_ROOTS]:
            if top not in self.by_directory.get(place, ()):
                continue
            if top == own and place == directory and (place, top) not in self.packages:
                continue  # the file itself: its import of its own name means the installed one
            if (place, top) not in self.namespaces:
                return "local"
            found = "namespace"
        if found is None and top in self.anywhere and top != own:
            # a module elsewhere in the tree, reached through sys.path changes or a run from
            # its folder: local unless a distribution is known for the name
            found = "namespace"
        return found

    def is_local(self, module: str, importer: str) -> bool:
        return self.kind(module, importer) == "local"


def local_modules(sources: list[str]) -> LocalModules:
    """Local names from the relative paths of the project's ``.py`` files."""
    found = LocalModules()
    packages = found.packages
    folders: set[tuple[str, str]] = set()
    modules: set[tuple[str, str]] = set()
    for rel in sources:
        if not rel.endswith(".py"):
            continue
        parts = _parts(rel)
        for depth in range(len(parts)):
            directory = "/".join(parts[:depth]) or "."
            last = depth == len(parts) - 1
            name = parts[depth].removesuffix(".py") if last else parts[depth]
            if not name.isidentifier():
                continue  # not importable, but what lies below it is
            found.by_directory.setdefault(directory, set()).add(name)
            if last and name == "__init__":
                parent = "/".join(parts[:depth - 1]) or "."
                if depth:
                    packages.add((parent, parts[depth - 1]))
            elif last:
                modules.add((directory, name))
            else:
                folders.add((directory, name))
    found.namespaces = folders - packages - modules
    found.anywhere = {name for names in found.by_directory.values() for name in names} - {"__init__"}
    return found


def _ancestors(directory: str) -> list[str]:
    """``a/b`` -> ``["a/b", "a", "."]``."""
    if directory == ".":
        return ["."]
    parts = directory.split("/")
    return ["/".join(parts[:n]) for n in range(len(parts), 0, -1)] + ["."]


def _parts(rel: str) -> tuple[str, ...]:
    """``PurePosixPath(rel).parts``; the walk's paths need only a split (many thousand per tree)."""
    if rel.startswith(("/", "./")) or "//" in rel or "/./" in rel:
        return PurePosixPath(rel).parts
    return tuple(rel.split("/"))
