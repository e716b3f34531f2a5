"""From import statements to findings: drop ``__future__``, the project's own modules and the
target Python's standard library, map the rest to distributions, and merge the uses of each
module (optional only when every use is optional)."""

from __future__ import annotations

from dataclasses import dataclass, field

from samepack.scan.sources.facts import FileFacts, ImportUse
from samepack.scan.resolve.local import LocalModules, local_modules
from samepack.scan.resolve.mapping import DistributionResolver, Resolution
from samepack.scan.model import Evidence, ImportFinding
from samepack.scan.resolve.stdlib import PYTHON2_ONLY, is_stdlib


# Imports of these files serve the build (setuptools), not the program: they are declared in
# [build-system], so they are neither findings nor "undeclared" dependencies.
BUILD_SCRIPTS = frozenset({"setup.py"})


@dataclass
class ResolvedImports:
    imports: list[ImportFinding] = field(default_factory=list)
    local_modules: list[str] = field(default_factory=list)


def resolve_imports(facts: list[FileFacts], target_python: str, user_mapping: dict[str, str],
                    use_installed: bool = True, local: LocalModules | None = None) -> ResolvedImports:
    """``local``: the project's modules when the caller has them (from the same paths)."""
    local = local if local is not None else local_modules([f.path for f in facts])
    resolver = DistributionResolver(user_mapping, use_installed)
    findings: dict[str, ImportFinding] = {}
    used_local: set[str] = set()
    for file in facts:
        if file.path in BUILD_SCRIPTS:
            continue
        used_local.update(file.local_imports)
        for use in file.imports:
            outcome = classify(use, file.path, local, resolver, target_python)
            if isinstance(outcome, str):
                used_local.add(outcome)
            elif outcome is not None:
                _add(findings, outcome, use, file.path)
    resolver.save_installed()
    result = ResolvedImports(local_modules=sorted(used_local))
    for module in sorted(findings):
        finding = findings[module]
        finding.evidence = sorted(set(finding.evidence))
        result.imports.append(finding)
    return result


def classify(use: ImportUse, importer: str, local: LocalModules, resolver: DistributionResolver,
             target_python: str) -> Resolution | str | None:
    """A Resolution for a third-party import, the module's name (str) for an absolute import of
    a local one, None for everything else (relative imports, stdlib, ``__future__``, imports
    the user maps to nothing)."""
    user = resolver.user_lookup(use.module) if use.module and not use.level else None
    if user:
        return user if user.distribution else None
    kind = not_third_party(use, importer, local, target_python)
    if kind == "namespace":  # a folder without __init__.py: local unless a package has the name
        known = resolver.resolve(use.module)
        kind = "local" if known.source == "identity" else None
    if kind == "local":
        return use.module.split(".", 1)[0]
    if kind:
        return None
    resolution = resolver.resolve(use.module)
    return resolution if resolution.distribution else None  # mapped to "": no dependency


def not_third_party(use: ImportUse, importer: str, local: LocalModules, target_python: str) -> str | None:
    """"local" for the project's own modules, "namespace" for a project folder without
    ``__init__.py`` (see :class:`LocalModules`), "other" for relative, ``__future__``,
    standard-library and Python-2-only imports, None for an import that maps to a distribution."""
    top = use.module.split(".", 1)[0]
    if use.level or not top or top == "__future__":
        return "other"
    kind = local.kind(use.module, importer)
    if kind == "local":
        return "local"
    if is_stdlib(use.module, target_python) or top in PYTHON2_ONLY:
        return "other"
    return kind


@dataclass(frozen=True)
class ImportPruner:
    """Run where a file is read (a pool worker): keeps only the imports that may map to a
    distribution and notes the local modules used, so less travels back and less is resolved."""

    local: LocalModules
    target_python: str
    user_tops: frozenset[str]

    def __call__(self, facts: FileFacts) -> FileFacts:
        kept: list[ImportUse] = []
        for use in facts.imports:
            kind = None if use.module.split(".", 1)[0] in self.user_tops else \
                not_third_party(use, facts.path, self.local, self.target_python)
            if kind in (None, "namespace"):  # a namespace folder is decided with the mapping
                kept.append(use)
            elif kind == "local":
                facts.local_imports.append(use.module.split(".", 1)[0])
        facts.imports = kept
        return facts


def _add(findings: dict[str, ImportFinding], resolution: Resolution, use: ImportUse, path: str) -> None:
    finding = findings.get(resolution.module)
    if finding is None:
        finding = findings[resolution.module] = ImportFinding(
            resolution.module, resolution.distribution, resolution.source, use.optional)
    finding.optional = finding.optional and use.optional
    finding.evidence.append(Evidence(path, use.line))
