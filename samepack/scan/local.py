"""The project's own modules: what an import finds before site-packages does.

Project-wide: top-level modules and packages of the root and of ``src/``. Per file: the
modules beside it (a script's directory is first on ``sys.path``). Relative imports are
always local.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

SOURCE_ROOTS = ("", "src")


@dataclass
class LocalModules:
    project: set[str] = field(default_factory=set)
    by_directory: dict[str, set[str]] = field(default_factory=dict)

    def is_local(self, module: str, importer: str) -> bool:
        top = module.split(".", 1)[0]
        if top in self.project:
            return True
        return top in self.by_directory.get(importer.rpartition("/")[0] or ".", ())


def local_modules(sources: list[str]) -> LocalModules:
    """Local names from the relative paths of the project's ``.py`` files."""
    found = LocalModules()
    for rel in sources:
        if not rel.endswith(".py"):
            continue
        parts = _parts(rel)
        for depth in range(len(parts)):
            directory = "/".join(parts[:depth]) or "."
            name = parts[depth].removesuffix(".py")
            if not name.isidentifier():
                break
            found.by_directory.setdefault(directory, set()).add(name)
    for root in SOURCE_ROOTS:
        found.project |= found.by_directory.get(root or ".", set())
    return found


def _parts(rel: str) -> tuple[str, ...]:
    """``PurePosixPath(rel).parts``; the walk's paths need only a split (many thousand per tree)."""
    if rel.startswith(("/", "./")) or "//" in rel or "/./" in rel:
        return PurePosixPath(rel).parts
    return tuple(rel.split("/"))
