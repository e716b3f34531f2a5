"""Which base image a project builds on: a slim Python image for CPU work, an NVIDIA CUDA
runtime image matching the locked framework's CUDA for GPU work, or what the user names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

# CUDA minor -> the nvidia/cuda runtime tag with cuDNN that frameworks built for it load.
CUDA_TAGS = {
    "11.7": "11.7.1-cudnn8-runtime-ubuntu22.04",
    "11.8": "11.8.0-cudnn8-runtime-ubuntu22.04",
    "12.1": "12.1.1-cudnn8-runtime-ubuntu22.04",
    "12.2": "12.2.2-cudnn8-runtime-ubuntu22.04",
    "12.4": "12.4.1-cudnn-runtime-ubuntu22.04",
    "12.6": "12.6.3-cudnn-runtime-ubuntu22.04",
    "12.8": "12.8.1-cudnn-runtime-ubuntu22.04",
}
_CUDA_PIN = re.compile(r"^(?:torch|torchvision|torchaudio|jax\w*|paddlepaddle-gpu)==[^\s;]*\+cu(\d+)",
                       re.IGNORECASE | re.MULTILINE)
_NVIDIA_RUNTIME = re.compile(r"^nvidia-cuda-runtime-cu(\d+)==(\d+)\.(\d+)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class BaseImage:
    """The chosen base and why; ``python`` is the interpreter inside it (a command, or the
    version to install) and ``install_python`` says whether the base lacks Python (CUDA images
    do: the image installs the locked version with uv, since Ubuntu's own would be another)."""

    ref: str
    reason: str
    gpu: bool = False
    python: str = "python3"
    install_python: bool = False


def cuda_from_lock(lock_text: str) -> str | None:
    """The CUDA version a lock's GPU framework pins (``torch==2.1.0+cu121`` -> ``12.1``)."""
    match = _CUDA_PIN.search(lock_text)
    if match:
        digits = match.group(1)
        return f"{digits[:-1]}.{digits[-1]}"
    match = _NVIDIA_RUNTIME.search(lock_text)
    if match:
        return f"{match.group(2)}.{match.group(3)}"
    return None


def _cuda_tag(cuda: str) -> str:
    minor = ".".join(cuda.split(".")[:2])
    if minor in CUDA_TAGS:
        return CUDA_TAGS[minor]
    known = [v for v in CUDA_TAGS if _key(v) <= _key(minor) and v.split(".")[0] == minor.split(".")[0]]
    return CUDA_TAGS[max(known, key=_key)] if known else f"{minor}.0-runtime-ubuntu22.04"


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def python_minor(version: str | None, fallback: str) -> str:
    """``3.11`` from ``3.11``, ``3.11.7``, ``>=3.11`` or ``==3.11.*``; else ``fallback``."""
    match = re.search(r"(\d+)\.(\d+)", version or "")
    return f"{match.group(1)}.{match.group(2)}" if match else fallback


def choose_base_image(*, python: str, gpu: bool, cuda_versions: Iterable[str | None],
                      override: str | None = None) -> BaseImage:
    """The base image for a project. ``cuda_versions`` are candidates in order of trust (the
    lock's pin, then the scan's finding); the first one set wins."""
    if override:
        return BaseImage(override, "--base-image", gpu=gpu)
    cuda = next((c for c in cuda_versions if c), None)
    if gpu or cuda:
        cuda = cuda or "12.1"
        return BaseImage(f"nvidia/cuda:{_cuda_tag(cuda)}", f"GPU work with CUDA {cuda}",
                         gpu=True, python=python, install_python=True)
    return BaseImage(f"python:{python}-slim", f"CPU work on Python {python}")
