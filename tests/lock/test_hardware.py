"""The machine check: needs against machine facts, with sentences a person can act on."""

from __future__ import annotations

from samepack.envcreate.hardware import GIB, Needs, check_hardware
from samepack.machine import GpuInfo, MachineFacts

LAPTOP = MachineFacts(cpus=4, memory_bytes=16 * GIB, disk_free_bytes=50 * GIB, gpus=[],
                      python="3.11", platform="linux-64")
WORKSTATION = MachineFacts(cpus=16, memory_bytes=64 * GIB, disk_free_bytes=500 * GIB,
                           gpus=[GpuInfo("NVIDIA A10", 24 * GIB, "550.54", "12.4")],
                           python="3.11", platform="linux-64")


def messages(needs: Needs, facts: MachineFacts, available=()) -> list[str]:
    return [s.message for s in check_hardware(needs, facts, available)]


def test_enough_machine_has_no_shortfalls():
    needs = Needs(python="3.11", platforms=("linux-64",), cpus=8, memory_bytes=32 * GIB,
                  disk_bytes=100 * GIB, gpus=1, gpu_memory_bytes=24 * GIB, cuda="12.1")
    assert messages(needs, WORKSTATION) == []


def test_gpu_shortfall_reads_like_a_sentence():
    needs = Needs(gpus=1, gpu_memory_bytes=24 * GIB, cuda="12.1")
    assert messages(needs, LAPTOP) == ["needs 1 GPU with >= 24 GiB; this machine has none"]
    assert messages(Needs(gpus=2), WORKSTATION) == [
        "needs 2 GPUs; this machine has NVIDIA A10 (24 GiB)"]


def test_cuda_driver_too_old():
    assert messages(Needs(gpus=1, cuda="12.6"), WORKSTATION) == [
        "needs a driver for CUDA 12.6; this machine's driver supports CUDA 12.4"]


def test_cpu_memory_disk_python_platform():
    needs = Needs(python="3.10", platforms=("osx-arm64",), cpus=8, memory_bytes=32 * GIB,
                  disk_bytes=60 * GIB)
    assert messages(needs, LAPTOP) == [
        "needs Python 3.10; this machine has 3.11",
        "locked for osx-arm64; this machine is linux-64",
        "needs 8 CPUs; this machine has 4 CPUs",
        "needs 32 GiB memory; this machine has 16 GiB",
        "needs 60 GiB free disk; this machine has 50 GiB",
    ]
    assert messages(Needs(python="3.10"), LAPTOP, available=("3.10.13",)) == []
