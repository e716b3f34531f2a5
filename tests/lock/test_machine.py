"""The machine-facts probe reads the real machine."""

from __future__ import annotations

import os
import sys

from samepack.machine import conda_platform, probe_machine


def test_probe_reads_this_machine(tmp_path):
    facts = probe_machine(tmp_path / "not-yet" / "created")
    assert 1 <= facts.cpus <= (os.cpu_count() or 1)
    assert facts.memory_bytes > 64 * 2**20
    assert facts.disk_free_bytes > 0
    assert facts.python == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert facts.platform == conda_platform()
    assert facts.to_json()["gpus"] == [g.__dict__ for g in facts.gpus]


def test_conda_platform_names():
    assert conda_platform("linux", "x86_64") == "linux-64"
    assert conda_platform("linux", "aarch64") == "linux-aarch64"
    assert conda_platform("darwin", "arm64") == "osx-arm64"
    assert conda_platform("darwin", "x86_64") == "osx-64"
    assert conda_platform("win32", "AMD64") == "win-64"


def test_nvml_without_a_driver_means_no_gpu():
    """pynvml installed (the gpu extra) but no NVIDIA driver: no GPU, no error."""
    from pathlib import Path

    from tests.conftest import require_module
    from samepack.machine import probe_gpus

    require_module("pynvml")
    gpus = probe_gpus()
    assert isinstance(gpus, list)
    if not Path("/dev/nvidiactl").exists():
        assert gpus == []


def test_memory_from_sysconf_is_psutils_figure():
    import psutil

    from samepack.machine import memory_bytes

    assert memory_bytes() == psutil.virtual_memory().total


def test_no_driver_trace_means_nvml_is_not_loaded_and_nvml_agrees():
    """Where no NVIDIA driver trace exists, the probe skips pynvml, and NVML itself (asked
    directly) finds no driver either: the shortcut changes no answer."""
    import subprocess

    from tests.conftest import require_module
    from samepack.machine import nvidia_driver_absent

    require_module("pynvml")
    if not nvidia_driver_absent():
        return  # a machine with a driver: the probe asks NVML (the test above)
    code = ("import sys; from samepack.machine import probe_gpus; gpus = probe_gpus(); "
            "print(gpus, 'pynvml' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["[]", "False"]
    import pynvml

    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return
    pynvml.nvmlShutdown()
    raise AssertionError("NVML answered on a machine with no NVIDIA driver trace")


def test_tool_versions_read_from_dist_info_names_are_importlib_metadatas():
    """The lock records its tools' versions from their dist-info folders: the same answer as
    importlib.metadata for every distribution installed here."""
    from importlib import metadata

    from samepack.lock.tool import dist_version

    names = sorted({d.metadata["Name"] for d in metadata.distributions() if d.metadata["Name"]})
    assert len(names) > 20
    assert {name: dist_version(name) for name in names} == \
        {name: metadata.version(name) for name in names}
    assert dist_version("no-such-distribution-here") == "unknown"
