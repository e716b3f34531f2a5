"""Which PyTorch build a project gets. PyPI's ``torch`` for Linux is the CUDA build (several
GB of NVIDIA libraries); a project whose code never touches a GPU gets PyTorch's CPU index
instead, and one that needs a given CUDA the index of that CUDA. Only when neither the user
nor the project chose an index (``--find-links`` only adds places to look): their choice
always wins."""

from __future__ import annotations

from typing import Any

from samepack.envfiles.requirements_in import DirectRequirement
from samepack.lock.indexes import IndexOptions

PYTORCH_INDEX = "https://download.pytorch.org/whl"
PYTORCH_PACKAGES = frozenset({"torch", "torchvision", "torchaudio"})


def accelerator_index(requirements: list[DirectRequirement], hardware: dict[str, Any],
                      given: IndexOptions, declared: IndexOptions) -> tuple[IndexOptions, str | None]:
    """The extra index for the PyTorch build the scan calls for, and a sentence saying so
    (empty options and None when there is nothing to choose)."""
    if not PYTORCH_PACKAGES & {r.name for r in requirements}:
        return IndexOptions(), None
    if _chooses_index(given) or _chooses_index(declared):
        return IndexOptions(), None
    if any("+" in r.requirement for r in requirements if r.name in PYTORCH_PACKAGES):
        return IndexOptions(), None  # a local version (+cpu, +cu121) names its build already
    if not hardware.get("gpu"):
        url = f"{PYTORCH_INDEX}/cpu"
        why = f"no GPU code found: CPU builds of PyTorch from {url}"
    elif hardware.get("cuda") and "." in str(hardware["cuda"]):
        url = f"{PYTORCH_INDEX}/cu{str(hardware['cuda']).replace('.', '')}"
        why = f"CUDA {hardware['cuda']} code: PyTorch's CUDA {hardware['cuda']} builds from {url}"
    else:
        return IndexOptions(), None  # a GPU of no known CUDA: PyPI's default build
    return IndexOptions(extra_index_urls=(url,)), why


def _chooses_index(options: IndexOptions) -> bool:
    """An index URL, a PyTorch package pinned to an index of its own, or --no-index decides
    where torch comes from; find-links only adds."""
    pinned = any(pin.package.lower() in PYTORCH_PACKAGES for pin in options.pinned)
    return bool(options.index_url or options.extra_index_urls or options.no_index or pinned)
