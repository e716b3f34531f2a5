"""Real builders for the image tests, started once per test session (all image tests run on one
xdist worker: ``xdist_group("images")``):

- a Python base rootfs made with debootstrap (about 2-4 minutes; ``SAMEPACK_TEST_CACHE=DIR``
  keeps the tarball between sessions on a developer machine),
- ``dockerd`` with the safe flags (no bridge, no iptables, no IP forwarding) on a private socket,
- buildah with private vfs storage and chroot isolation,
- a wheelhouse and a hashed lock for a small requirement set.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import require_module, require_tool

BASE_TAG = "samepack-test-base:bookworm"
REQUIREMENTS = ["six==1.17.0", "PyYAML==6.0.3"]
HERMETIC_PIP = {"PIP_CONFIG_FILE": "/dev/null", "PIP_FIND_LINKS": "", "PIP_EXTRA_INDEX_URL": ""}


def _debootstrap(rootfs: Path) -> None:
    subprocess.run(["debootstrap", "--variant=minbase", "--include=python3,python3-venv",
                    "bookworm", str(rootfs)], check=True, capture_output=True, timeout=900)
    for clutter in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc",
                    "usr/share/locale", "usr/share/man"):
        shutil.rmtree(rootfs / clutter, ignore_errors=True)
    (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def base_rootfs_tar(tmp_path_factory) -> Path:
    """A tarball of a minimal Debian with python3, made once per session."""
    require_tool("debootstrap", "builds the base image")
    cache = os.environ.get("SAMEPACK_TEST_CACHE")
    where = Path(cache) if cache else tmp_path_factory.mktemp("rootfs")
    tarball = where / "bookworm-python3.tar"
    if tarball.is_file():
        return tarball
    rootfs = where / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    _debootstrap(rootfs)
    partial = tarball.with_suffix(".part")
    subprocess.run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(partial), "."],
                   check=True)
    partial.rename(tarball)
    shutil.rmtree(rootfs, ignore_errors=True)
    return tarball


def _wait_for_socket(socket: Path, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dockerd exited: {log.read_text()[-2000:]}")
        if socket.exists():
            import docker

            try:
                docker.DockerClient(base_url=f"unix://{socket}").ping()
                return
            except Exception:
                pass
        time.sleep(0.2)
    raise RuntimeError(f"dockerd did not answer: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def dockerd(tmp_path_factory) -> str:
    """``DOCKER_HOST`` of a private Docker engine that leaves the host's network alone."""
    require_tool("dockerd", "the Docker engine")
    require_module("docker")
    root = Path(tempfile_short_dir())
    log = root / "dockerd.log"
    command = ["dockerd", "--storage-driver", "vfs", "--iptables=false", "--ip6tables=false",
               "--ip-forward=false", "--ip-masq=false", "--bridge=none",
               "--data-root", f"{root}/data", "--exec-root", f"{root}/exec",
               "--pidfile", f"{root}/docker.pid", "-H", f"unix://{root}/docker.sock"]
    with log.open("wb") as stream:
        process = subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT)
    try:
        _wait_for_socket(root / "docker.sock", process, log)
        yield f"unix://{root}/docker.sock"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        subprocess.run(["umount", f"{root}/exec/netns/default"], capture_output=True)
        remove_later(root)


def remove_later(path: Path) -> None:
    """Delete a builder's storage (gigabytes of vfs copies) without holding up the session:
    ``rm -rf`` in its own session finishes on its own after the tests."""
    subprocess.Popen(["rm", "-rf", str(path)], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tempfile_short_dir() -> str:
    """A fresh directory with a short path (unix socket paths are limited to ~100 bytes)."""
    import tempfile

    return tempfile.mkdtemp(prefix="sp-dockerd-")


@pytest.fixture(scope="session")
def docker_base(dockerd, base_rootfs_tar) -> str:
    import docker

    client = docker.DockerClient(base_url=dockerd)
    repository, tag = BASE_TAG.split(":")
    client.api.import_image_from_file(str(base_rootfs_tar), repository=repository, tag=tag)
    return BASE_TAG


@pytest.fixture(scope="session")
def buildah_env(tmp_path_factory, base_rootfs_tar) -> dict[str, str]:
    """Environment for buildah with private storage, holding the base image."""
    buildah = require_tool("buildah", "the daemonless builder")
    root = tmp_path_factory.mktemp("buildah")
    conf = root / "storage.conf"
    conf.write_text(f'[storage]\ndriver = "vfs"\ngraphroot = "{root}/graph"\n'
                    f'runroot = "{root}/run"\n')
    env = {"CONTAINERS_STORAGE_CONF": str(conf), "BUILDAH_ISOLATION": "chroot"}
    full = {**os.environ, **env}

    def run(*args: str) -> str:
        return subprocess.run([buildah, *args], env=full, check=True, capture_output=True,
                              text=True).stdout.strip()

    container = run("from", "scratch")
    run("add", container, str(base_rootfs_tar), "/")
    run("commit", "-q", "--timestamp", "0", container, f"localhost/{BASE_TAG}")
    run("rm", container)
    yield env
    subprocess.run([buildah, "rm", "--all"], env=full, capture_output=True)
    remove_later(root)  # private storage: nothing else uses it, no mounts left with vfs


@pytest.fixture(scope="session")
def wheelhouse_lock(tmp_path_factory) -> tuple[Path, Path]:
    """(wheelhouse, requirements.txt): wheels for Python 3.11 from the package index and a lock
    hashed against exactly those files (``uv pip compile --generate-hashes``)."""
    require_tool("uv", "compiles the lock")
    root = tmp_path_factory.mktemp("wheelhouse")
    wheels = root / "wheels"
    env = {**os.environ, **HERMETIC_PIP}
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:",
                    "--python-version", "3.11", "--implementation", "cp",
                    "--platform", "manylinux2014_x86_64", "-d", str(wheels), *REQUIREMENTS],
                   env=env, check=True, timeout=300)
    (root / "requirements.in").write_text("\n".join(REQUIREMENTS) + "\n")
    subprocess.run(["uv", "pip", "compile", "-q", "--generate-hashes", "--no-index",
                    "--find-links", str(wheels), "--python-version", "3.11",
                    "-o", str(root / "requirements.txt"), str(root / "requirements.in")],
                   env=env, check=True, timeout=120, cwd=root)
    return wheels, root / "requirements.txt"
