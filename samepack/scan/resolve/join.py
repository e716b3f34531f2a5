"""Join what the code imports with what the files declare into the project's dependencies."""

from __future__ import annotations

import re

from samepack.scan.declared.conda_env import conda_spec_as_pep508
from samepack.scan.model import DeclaredRequirement, Dependency, ImportFinding
from samepack.scan.resolve.mapping import source_requirement
from samepack.scan.names import canonical_name

RUNTIME_GROUPS = (None, "notebook")


def join_dependencies(imports: list[ImportFinding], declared: list[DeclaredRequirement]) -> list[Dependency]:
    """One Dependency per distribution, sorted by name (see ``Dependency`` for the fields)."""
    prefer_declared_forks(imports, declared)
    by_name: dict[str, tuple[list[ImportFinding], list[DeclaredRequirement]]] = {}
    for finding in imports:
        if finding.distribution:
            by_name.setdefault(finding.distribution, ([], []))[0].append(finding)
    for requirement in declared:
        by_name.setdefault(requirement.name, ([], []))[1].append(requirement)
    return [_dependency(name, *by_name[name]) for name in sorted(by_name)]


def _dependency(name: str, found: list[ImportFinding], declared: list[DeclaredRequirement]) -> Dependency:
    status = "used" if found and declared else "undeclared" if found else "unused"
    runtime = [d for d in declared if d.group in RUNTIME_GROUPS]
    if not found:  # a notebook's `!pip install` that no code imports installs a tool, not a need
        runtime = [d for d in runtime if d.group != "notebook"]
    optional = all(f.optional for f in found) and not runtime
    evidence = {e for f in found for e in f.evidence} | {d.evidence for d in declared}
    return Dependency(
        name=name,
        requirement=lockable_requirement(name, (runtime or declared)[0]) if declared
        else _undeclared_requirement(name, found),
        status=status,
        optional=optional,
        imports=sorted({f.module for f in found}),
        evidence=sorted(evidence),
    )


def _undeclared_requirement(name: str, found: list[ImportFinding]) -> str:
    """The name, or the repository it installs from when PyPI does not serve its project
    (the user's own mapping is taken as it is)."""
    if any(f.mapping_source == "user" for f in found):
        return name
    return source_requirement(name) or name


_FORK_SUFFIX = re.compile(r"^(?:\d+|-(?:gpu|cpu|binary|headless|lite|fork|ng|nightly))$")


def prefer_declared_forks(imports: list[ImportFinding], declared: list[DeclaredRequirement]) -> None:
    """An import whose name was only guessed (``progressbar``) belongs to a declared fork
    that provides it (``progressbar33``, ``progressbar2``, ``tensorflow-gpu``), or to a
    distribution of its own name declared from a URL (``clip @ git+https://github.com/openai/CLIP``
    rather than the table's ``openai-clip``), so one import never yields two distributions.
    Changes ``imports`` in place."""
    names = {d.name for d in declared if d.ecosystem == "pypi"}
    from_urls = {d.name for d in declared if d.ecosystem == "pypi" and "://" in d.requirement}
    for finding in imports:
        if finding.mapping_source not in ("identity", "table") or finding.distribution in names:
            continue
        base = canonical_name(finding.module.split(".", 1)[0])
        if base in from_urls:
            finding.distribution = base
            continue
        forks = sorted(n for n in names if n.startswith(base) and _FORK_SUFFIX.match(n[len(base):]))
        if base and len(forks) == 1:
            finding.distribution = forks[0]


def lockable_requirement(name: str, declared: DeclaredRequirement) -> str:
    """A PEP 508 requirement a PyPI locker accepts for a declaration of any kind."""
    if declared.ecosystem == "conda":
        return conda_spec_as_pep508(name, declared.requirement)
    text = declared.requirement
    if "://" in text and " @ " not in text:
        return f"{name} @ {text.split('#', 1)[0]}"
    return text
