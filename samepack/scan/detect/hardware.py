"""Hardware needs from the code's hints and the declared packages: GPU use, multi-GPU, and the
CUDA version that pins suggest (``torch==2.3.1+cu121`` -> 12.1, ``nvidia-*-cu12`` -> 12,
``pytorch-cuda=12.1`` or ``cudatoolkit=11.8`` in environment.yml)."""

from __future__ import annotations

import re

from samepack.scan.sources.facts import Hint
from samepack.scan.model import DeclaredRequirement, Evidence, HardwareNeeds

_CU_LOCAL = re.compile(r"\+cu(\d{2,3})\b")
_CU_INDEX = re.compile(r"/whl/cu(\d{2,3})\b")
_NVIDIA = re.compile(r"^nvidia-[a-z0-9-]+-cu(\d{2})$")
_CONDA_CUDA = re.compile(r"^(?:pytorch-cuda|cudatoolkit|cuda-version|cuda-toolkit)$")
GPU_KINDS = ("cuda", "rocm")


def _cu_digits(digits: str) -> str:
    """"121" -> "12.1", "118" -> "11.8"."""
    return f"{digits[:-1]}.{digits[-1]}"


def cuda_from_requirement(name: str, requirement: str) -> str | None:
    """The CUDA version a declared requirement implies, if any."""
    match = _CU_LOCAL.search(requirement) or _CU_INDEX.search(requirement)
    if match:
        return _cu_digits(match.group(1))
    match = _NVIDIA.match(name)
    if match:
        return match.group(1)
    if _CONDA_CUDA.match(name):
        version = re.search(r"(\d+\.\d+)", requirement)
        return version.group(1) if version else None
    return None


def index_cuda_hints(rel: str, text: str) -> list[tuple[str, Evidence]]:
    """CUDA versions named by wheel index URLs (``--extra-index-url .../whl/cu121``)."""
    return [(_cu_digits(m.group(1)), Evidence(rel, text.count("\n", 0, m.start()) + 1))
            for m in _CU_INDEX.finditer(text)]


def hardware_needs(hints: list[tuple[str, Hint]], declared: list[DeclaredRequirement],
                   index_hints: list[tuple[str, Evidence]]) -> HardwareNeeds:
    """``hints`` are (path, hint) pairs; ``index_hints`` are (CUDA version, evidence) from
    index URLs and conda packages that are not requirements."""
    needs = HardwareNeeds()
    evidence: set[Evidence] = set()
    kinds = set()
    for path, hint in hints:
        kinds.add(hint.kind)
        evidence.add(Evidence(path, hint.line))
    versions = [(cuda_from_requirement(r.name, r.requirement), r.evidence) for r in declared]
    versions = [(v, e) for v, e in versions + index_hints if v]
    for _, where in versions:
        evidence.add(where)
    needs.multi_gpu = "multi_gpu" in kinds
    needs.gpu = needs.multi_gpu or any(kind in GPU_KINDS for kind in kinds)
    needs.accelerators = sorted(kinds - {"multi_gpu"})
    if versions:
        needs.cuda = max((v for v, _ in versions), key=lambda v: (v.count("."), v))
    needs.evidence = sorted(evidence)
    return needs
