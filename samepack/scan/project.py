"""``scan_project``: run the detectors over a project and join their findings into one Scan."""

from __future__ import annotations

from pathlib import Path

from samepack.errors import InputError
from samepack.scan.context import ScanContext
from samepack.scan.declared.files import declared_requirements, requirement_files
from samepack.scan.sources.facts import FileFacts
from samepack.scan.sources.hints import find_hints
from samepack.scan.detect.hardware import cuda_from_requirement, hardware_needs, index_cuda_hints
from samepack.scan.resolve.imports import ImportPruner, resolve_imports
from samepack.scan.resolve.join import join_dependencies
from samepack.scan.resolve.local import local_modules
from samepack.scan.model import DeclaredRequirement, Evidence, HardwareNeeds, Problem, Scan
from samepack.scan.sources.parallel import read_all
from samepack.scan.detect.pythonver import exact_minor, python_finding, running_python
from samepack.scan.declared.requirements_txt import parse_requirement_line
from samepack.scan.detect.system import system_libraries
from samepack.scan.sources.walk import collect_files

# Trees with more Python than this are read in the fast mode (see samepack/scan/sources/python.py).
FAST_MODE_ABOVE_BYTES = 4_000_000
PARSE_MODES = ("auto", "full", "fast")


def scan_project(root: Path, target_python: str | None = None, *, use_installed: bool = True,
                 parse_mode: str = "auto") -> Scan:
    """Scan the project at ``root``. ``target_python`` ("3.12") picks the standard library;
    by default the project's exact declared Python, else the running one. ``use_installed``
    lets the active environment's metadata map imports to distributions."""
    root = _checked_root(root)
    ctx = ScanContext(root, collect_files(root))
    user_mapping = ctx.user_mapping()
    python = python_finding(ctx)
    target = target_python or exact_minor(python) or running_python()
    mode = _choose_mode(parse_mode, ctx.files.source_bytes)
    local = local_modules(ctx.files.sources)
    prune = ImportPruner(local, target, frozenset(name.split(".", 1)[0] for name in user_mapping))
    facts = read_all(root, ctx.files.sources, mode, ctx.files.source_bytes, prune)
    declared = declared_requirements(ctx) + _notebook_installs(facts)
    resolved = resolve_imports(facts, target, user_mapping, use_installed, local)
    return Scan(
        root=str(root), target_python=target, python=python, parse_mode=mode,
        imports=resolved.imports, local_modules=resolved.local_modules, declared=declared,
        dependencies=join_dependencies(resolved.imports, declared),
        system_libraries=system_libraries(ctx, resolved.imports),
        hardware=_hardware(ctx, facts, declared),
        conda_environment=ctx.conda.rel if ctx.conda else None,
        files_scanned=len(facts),
        problems=sorted(ctx.problems + [Problem(f.path, f.problem) for f in facts if f.problem],
                        key=lambda p: (p.path, p.reason)),
        mapping_sources=(["user"] if user_mapping else []) + (["installed"] if use_installed else [])
        + ["table", "identity"],
    )


def _checked_root(root: Path) -> Path:
    root = Path(root)
    if not root.exists():
        raise InputError(f"{root}: no such directory", hint="give the path of a project directory")
    if not root.is_dir():
        raise InputError(f"{root}: is a file, not a project directory",
                         hint=f"scan the directory that holds it: samepack scan {root.parent}")
    return root.resolve()


def _choose_mode(parse_mode: str, source_bytes: int) -> str:
    if parse_mode not in PARSE_MODES:
        raise InputError(f"--parse {parse_mode}: unknown mode", hint="use auto, full or fast")
    if parse_mode == "auto":
        return "fast" if source_bytes > FAST_MODE_ABOVE_BYTES else "full"
    return parse_mode


def _notebook_installs(facts: list[FileFacts]) -> list[DeclaredRequirement]:
    found = []
    for file in facts:
        for requirement, line in file.pip_installs:
            parsed = parse_requirement_line(requirement, Evidence(file.path, line), "notebook")
            if isinstance(parsed, DeclaredRequirement):
                found.append(parsed)
    return found


def _hardware(ctx: ScanContext, facts: list[FileFacts], declared: list[DeclaredRequirement]) -> HardwareNeeds:
    hints = [(f.path, hint) for f in facts for hint in f.hints]
    for rel in ctx.files.scripts:
        text = ctx.read_text(rel)
        hints += [(rel, hint) for hint in find_hints(text or "")]
    index_hints = []
    for rel in requirement_files(ctx):
        index_hints += index_cuda_hints(rel, ctx.read_text(rel) or "")
    for name, spec, where in ctx.conda.conda_names if ctx.conda else []:
        version = cuda_from_requirement(name, spec)
        if version:
            index_hints.append((version, where))
    return hardware_needs(hints, declared, index_hints)
