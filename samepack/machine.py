"""Facts about the machine we are running on: CPUs, memory, free disk, GPUs, Python, platform.

One probe, reused by ``samepack env create`` (hardware check) and by the program runner's
preflight. GPUs are read through NVML (``pynvml``) when it is installed and a driver answers;
otherwise the machine is taken to have no GPU. A Linux machine with no trace of NVIDIA's driver
is not asked through NVML at all (importing pynvml alone costs a run tens of milliseconds).
"""

from __future__ import annotations

import os
import platform as _platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any



@dataclass(frozen=True)
class GpuInfo:
    """One GPU as NVML reports it."""

    name: str
    memory_bytes: int
    driver: str | None = None
    cuda: str | None = None  # highest CUDA version the driver supports, e.g. "12.4"


@dataclass(frozen=True)
class MachineFacts:
    """What ``probe_machine`` found."""

    cpus: int
    memory_bytes: int
    disk_free_bytes: int
    gpus: list[GpuInfo] = field(default_factory=list)
    python: str = ""  # "3.11"
    platform: str = ""  # conda-style subdir: "linux-64", "osx-arm64", "win-64"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def conda_platform(system: str | None = None, machine: str | None = None) -> str:
    """This machine as a conda subdir name (the platform vocabulary samepack uses everywhere)."""
    system = (system or sys.platform).lower()
    machine = (machine or _platform.machine()).lower()
    arch = {"x86_64": "64", "amd64": "64", "aarch64": "aarch64", "arm64": "arm64",
            "ppc64le": "ppc64le"}.get(machine, machine)
    if system.startswith("linux"):
        return f"linux-{arch}"
    if system == "darwin":
        return "osx-arm64" if arch in {"arm64", "aarch64"} else "osx-64"
    if system in {"win32", "windows"}:
        return "win-64"
    return f"{system}-{arch}"


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _existing_parent(path: Path) -> Path:
    path = path.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


# Where NVIDIA's Linux driver shows itself: the kernel module, its control device, and the
# user-space NVML library WSL 2 maps in (WSL has no /proc/driver/nvidia).
NVIDIA_DRIVER_TRACES = ("/proc/driver/nvidia", "/dev/nvidiactl", "/usr/lib/wsl/lib/libnvidia-ml.so.1")


def nvidia_driver_absent() -> bool:
    """True on Linux when none of NVIDIA's driver traces exist: NVML would find no device."""
    return sys.platform.startswith("linux") and not any(
        os.path.exists(trace) for trace in NVIDIA_DRIVER_TRACES)


def probe_gpus() -> list[GpuInfo]:
    """GPUs seen by NVML; an empty list when pynvml or the driver is absent."""
    if nvidia_driver_absent():
        return []
    try:
        import pynvml  # type: ignore[import-not-found]
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except Exception:  # NVMLError: no driver / no device
        return []
    try:
        return [_gpu_info(pynvml, index) for index in range(pynvml.nvmlDeviceGetCount())]
    finally:
        pynvml.nvmlShutdown()


def _gpu_info(pynvml: Any, index: int) -> GpuInfo:
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    name = pynvml.nvmlDeviceGetName(handle)
    driver = pynvml.nvmlSystemGetDriverVersion()
    cuda_int = pynvml.nvmlSystemGetCudaDriverVersion()
    return GpuInfo(
        name=name.decode() if isinstance(name, bytes) else str(name),
        memory_bytes=int(pynvml.nvmlDeviceGetMemoryInfo(handle).total),
        driver=driver.decode() if isinstance(driver, bytes) else str(driver),
        cuda=f"{cuda_int // 1000}.{(cuda_int % 1000) // 10}" if cuda_int else None,
    )


def memory_bytes() -> int:
    """Physical memory: from sysconf where POSIX has it (no psutil import), else psutil."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        import psutil

        return int(psutil.virtual_memory().total)


def disk_free_bytes(path: Path) -> int:
    """Free space for an unprivileged user at ``path``: what ``shutil.disk_usage`` reports,
    from ``os.statvfs`` where POSIX has it (shutil loads three compression modules)."""
    if hasattr(os, "statvfs"):
        status = os.statvfs(path)
        return int(status.f_bavail * status.f_frsize)
    import shutil

    return int(shutil.disk_usage(path).free)


def probe_machine(disk_path: Path | str = ".") -> MachineFacts:
    """Probe this machine. ``disk_path`` is where free space is measured (e.g. the env prefix)."""
    return MachineFacts(
        cpus=_usable_cpus(),
        memory_bytes=memory_bytes(),
        disk_free_bytes=disk_free_bytes(_existing_parent(Path(disk_path))),
        gpus=probe_gpus(),
        python=f"{sys.version_info.major}.{sys.version_info.minor}",
        platform=conda_platform(),
    )
