"""Where a project starts: scripts with a ``__main__`` block, notebooks, MLproject entry points.

``discover`` returns every candidate with the reason it was found and a tier. Candidates of the
best tier present are the plausible ones (``init`` asks among them when there are several); the
rest are listed but only chosen with ``--entry``:

1. the entry points an ``MLproject`` declares (the project said so itself);
2. Python scripts with an ``if __name__ == "__main__":`` block (tests, ``setup.py`` and
   ``conftest.py`` excluded);
3. notebooks;
4. scripts at the project's root that do their work at module level, with no ``__main__``
   block (an example script, ``plot_ols.py``): a statement calling something, or a loop, outside
   any function.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

EntryKind = Literal["mlproject", "script", "notebook"]

SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", "node_modules", "build", "dist", ".tox", ".nox",
             ".venv", "venv", "env", "site-packages", ".mypy_cache", ".pytest_cache",
             ".ipynb_checkpoints", "mlruns", ".samepack", "tests", "test"}
NOT_ENTRIES = {"setup.py", "conftest.py", "__init__.py", "noxfile.py", "fabfile.py"}
_TIER = {"mlproject": 1, "script": 2, "notebook": 3}
MODULE_LEVEL_TIER = 4


@dataclass(frozen=True)
class EntryCandidate:
    """A way into the project: ``name`` is what ``--entry`` matches (also the step name)."""

    kind: EntryKind
    path: str  # relative to the project root, POSIX
    name: str  # step name: the MLproject entry point, or the file's stem
    reason: str
    args: tuple[str, ...] = ()  # arguments given with --entry, kept in the step's command
    module_level: bool = False  # a script with no __main__ block, its work at module level

    @property
    def tier(self) -> int:
        return MODULE_LEVEL_TIER if self.module_level else _TIER[self.kind]

    @property
    def label(self) -> str:
        return f"{self.path}:{self.name}" if self.kind == "mlproject" else self.path

    def matches(self, wanted: str) -> bool:
        wanted = wanted.strip().removeprefix("./")
        return wanted in {self.name, self.path, self.label, Path(self.path).name}


def project_files(root: Path, suffixes: tuple[str, ...]) -> Iterator[Path]:
    """Files under ``root`` with one of ``suffixes``, sorted, skipping environments, caches,
    build output, tests and hidden directories."""
    for directory, dirnames, filenames in os.walk(root):
        here = Path(directory)
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")
                             and not (here / d / "pyvenv.cfg").exists())
        for filename in sorted(filenames):
            if filename.endswith(suffixes):
                yield here / filename


def has_main_block(source: str) -> int | None:
    """The line of a module-level ``if __name__ == "__main__":``, else None."""
    if "__main__" not in source:
        return None
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare):
            names = [n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)]
            texts = [n.value for n in ast.walk(node.test) if isinstance(n, ast.Constant)]
            if "__name__" in names and "__main__" in texts:
                return node.lineno
    return None


def top_level_work(source: str) -> int | None:
    """The line of the first statement outside any function that calls something or loops
    (what makes a file a script rather than a module), else None."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, (ast.For, ast.While, ast.With)) or (
                isinstance(node, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign))
                and any(isinstance(n, ast.Call) for n in ast.walk(node))):
            return node.lineno
    return None


def _top_level_scripts(root: Path, found: set[str]) -> Iterator[EntryCandidate]:
    for path in sorted(root.glob("*.py")):
        if path.name in NOT_ENTRIES or path.name.startswith("test_") or path.name in found:
            continue
        try:
            line = top_level_work(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        if line is not None:
            yield EntryCandidate("script", path.name, path.stem,
                                 f"{path.name}:{line} does its work at module level (a script)",
                                 module_level=True)


def _scripts(root: Path) -> Iterator[EntryCandidate]:
    for path in project_files(root, (".py",)):
        if path.name in NOT_ENTRIES or path.name.startswith("test_"):
            continue
        try:
            line = has_main_block(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        if line is not None:
            relative = path.relative_to(root).as_posix()
            yield EntryCandidate("script", relative, path.stem,
                                 f'{relative}:{line} has an `if __name__ == "__main__":` block')


def _notebooks(root: Path) -> Iterator[EntryCandidate]:
    for path in project_files(root, (".ipynb",)):
        relative = path.relative_to(root).as_posix()
        yield EntryCandidate("notebook", relative, path.stem, f"{relative} is a notebook")


def _mlproject(root: Path) -> Iterator[EntryCandidate]:
    from samepack.program.mlproject import mlproject_entry_points

    path = root / "MLproject"
    if path.is_file():
        for name in mlproject_entry_points(path):
            yield EntryCandidate("mlproject", "MLproject", name,
                                 f"MLproject declares the entry point '{name}'")


def discover(root: Path) -> list[EntryCandidate]:
    """Every entry candidate in ``root``, best tier first, then by path."""
    found = [*_mlproject(root), *_scripts(root), *_notebooks(root)]
    found += _top_level_scripts(root, {c.path for c in found})
    return sorted(found, key=lambda c: (c.tier, c.path.count("/"), c.path, c.name))


def plausible(candidates: list[EntryCandidate]) -> list[EntryCandidate]:
    """The candidates of the best tier present."""
    if not candidates:
        return []
    best = min(c.tier for c in candidates)
    return [c for c in candidates if c.tier == best]


def select(candidates: list[EntryCandidate], wanted: str,
           root: Path | None = None) -> EntryCandidate | None:
    """The candidate ``--entry`` names (entry-point name, path or file name); with ``root``,
    also a script or notebook under it that was not found by itself (top-level code with no
    ``__main__`` block runs just as well)."""
    found = next((c for c in candidates if c.matches(wanted)), None)
    if found is not None or root is None:
        return found
    path = (root / wanted).resolve()
    if path.suffix not in {".py", ".ipynb"} or not path.is_file() or \
            not path.is_relative_to(root.resolve()):
        return None
    relative = path.relative_to(root.resolve()).as_posix()
    kind: EntryKind = "script" if path.suffix == ".py" else "notebook"
    return EntryCandidate(kind, relative, path.stem, f"--entry names {relative}")
