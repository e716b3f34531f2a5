"""Which Python the project wants: ``.python-version``, ``runtime.txt``, ``environment.yml``,
Pipfile ``[requires]``, then ``requires-python`` (a range). Exact versions win over ranges."""

from __future__ import annotations

import re
import sys

from samepack.scan.context import ScanContext, line_of
from samepack.scan.model import Evidence, PythonFinding

_VERSION = re.compile(r"(?<![\d.])(3\.\d+(?:\.\d+)?)\b")


def _from_python_version_file(ctx: ScanContext) -> tuple[str, Evidence] | None:
    text = ctx.read_text(".python-version")
    for number, line in enumerate((text or "").splitlines(), start=1):
        match = _VERSION.search(line.split("#", 1)[0])
        if match:
            return match.group(1), Evidence(".python-version", number)
    return None


def _from_runtime_txt(ctx: ScanContext) -> tuple[str, Evidence] | None:
    text = ctx.read_text("runtime.txt") or ""
    match = re.search(r"python-(3\.\d+(?:\.\d+)?)", text)
    return (match.group(1), Evidence("runtime.txt", 1)) if match else None


def _from_environment(ctx: ScanContext) -> tuple[str, Evidence] | None:
    if ctx.conda and ctx.conda.python:
        match = _VERSION.search(ctx.conda.python[0])
        if match:
            return match.group(1), ctx.conda.python[1]
    return None


def _from_pipfile(ctx: ScanContext) -> tuple[str, Evidence] | None:
    requires = ctx.pipfile.data.get("requires", {}) if ctx.pipfile else {}
    version = requires.get("python_full_version") or requires.get("python_version")
    if isinstance(version, str) and _VERSION.fullmatch(version.strip()):
        return version.strip(), Evidence("Pipfile", line_of(ctx.pipfile.lines, "python_"))
    return None


def _from_requires_python(ctx: ScanContext) -> tuple[str, Evidence] | None:
    if not ctx.pyproject:
        return None
    data = ctx.pyproject.data
    spec = data.get("project", {}).get("requires-python")
    if not spec:
        spec = data.get("tool", {}).get("poetry", {}).get("dependencies", {}).get("python")
        if isinstance(spec, str):
            from samepack.scan.declared.pyproject_deps import poetry_specifier

            spec = poetry_specifier(spec)
    if not isinstance(spec, str) or not spec:
        return None
    where = line_of(ctx.pyproject.lines, "requires-python", "python =")
    return spec.replace(" ", ""), Evidence("pyproject.toml", where)


EXACT_SOURCES = (_from_python_version_file, _from_runtime_txt, _from_environment, _from_pipfile)


def python_finding(ctx: ScanContext) -> PythonFinding:
    """The first exact version found, else the ``requires-python`` range; every source is evidence."""
    exact = [found for found in (source(ctx) for source in EXACT_SOURCES) if found]
    ranged = _from_requires_python(ctx)
    evidence = [where for _, where in exact] + ([ranged[1]] if ranged else [])
    if exact:
        return PythonFinding(exact[0][0], evidence)
    return PythonFinding(ranged[0] if ranged else None, evidence)


def exact_minor(finding: PythonFinding) -> str | None:
    """"3.11" for an exact finding ("3.11" or "3.11.4"), None for a range or nothing."""
    if finding.version and _VERSION.fullmatch(finding.version):
        return ".".join(finding.version.split(".")[:2])
    return None


def running_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"
