"""A conda environment's PyPI equivalents, for locking an ``environment.yml`` where no conda
channel answers (or with ``--locker uv``): each conda package becomes the PyPI distribution of
the same software (``pytorch`` -> ``torch``, ``scipy=1.11`` -> ``scipy==1.11.*``); packages
that exist only for conda (compilers, CUDA runtimes, C libraries) have no equivalent and are
named in a warning, never guessed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from samepack.envfiles.requirements_in import DirectRequirement
from samepack.lock.model import CondaSpec
from samepack.scan.declared.conda_env import conda_spec_as_pep508
from samepack.scan.names import canonical_name
from samepack.scan.resolve.mapping import conda_to_pypi

_NAME = re.compile(r"^(?:[\w.\-/]+::)?(?P<name>[A-Za-z0-9_.\-]+)")
_CONDA_ONLY = re.compile(r"^(lib|r-|_|font-|xorg-|cuda-)")


@dataclass
class Translation:
    requirements: list[str] = field(default_factory=list)  # PEP 508
    translated: list[tuple[str, str]] = field(default_factory=list)  # (conda spec, PEP 508)
    untranslatable: list[str] = field(default_factory=list)  # conda specs without equivalent

    def warning(self, why: str) -> str:
        """``why``, then every conda package locked from PyPI (``conda -> pypi`` where the
        spelling changes) and every one left out."""
        translated = [conda if conda == pypi else f"{conda} -> {pypi}"
                      for conda, pypi in self.translated]
        parts = [f"{why}: locked the PyPI equivalents of environment.yml's conda packages"]
        if translated:
            parts.append("translated " + ", ".join(translated))
        if self.untranslatable:
            parts.append("no PyPI equivalent for " + ", ".join(self.untranslatable))
        return "; ".join(parts)


def pypi_equivalents(spec: CondaSpec) -> Translation:
    """The PyPI requirements standing for ``spec``'s conda packages, then its ``pip:`` list."""
    # packaging's parser loads its wheel tags too: only for a project that has a conda spec
    from packaging.requirements import InvalidRequirement, Requirement

    result = Translation()
    for item in spec.dependencies:
        match = _NAME.match(item.strip())
        if not match:
            result.untranslatable.append(item)
            continue
        name = match.group("name").lower()
        if name in ("python", "pip"):
            continue
        pypi = conda_to_pypi(name)
        if pypi is None or (pypi == name and _CONDA_ONLY.match(name)):
            result.untranslatable.append(item)
            continue
        requirement = conda_spec_as_pep508(pypi, item.strip().replace(match.group(0), pypi, 1))
        try:
            Requirement(requirement)
        except InvalidRequirement:
            requirement = pypi  # a conda version syntax PEP 440 has no word for: any version
        result.requirements.append(requirement)
        result.translated.append((item, requirement))
    result.requirements += list(spec.pip)
    return result


def with_equivalents(direct: list[DirectRequirement], translation: Translation,
                     where: str) -> list[DirectRequirement]:
    """``direct`` with the PyPI equivalents of a conda environment added; a bare name the
    scan found gives way to the environment's specifier."""
    from packaging.requirements import Requirement

    by_name: dict[str, list[DirectRequirement]] = {}
    for requirement in direct:
        by_name.setdefault(requirement.name, []).append(requirement)
    for text in translation.requirements:
        name = canonical_name(Requirement(text).name)
        found = by_name.get(name, [])
        evidence = tuple(dict.fromkeys(e for r in found for e in r.evidence)) or (where,)
        kept = [r for r in found if r.requirement != name and r.requirement != text]
        by_name[name] = kept + [DirectRequirement(text, name, evidence)]
    return [r for name in sorted(by_name) for r in by_name[name]]
