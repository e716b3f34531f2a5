"""Registry fixtures: real ``docker-registry`` processes on 127.0.0.1 (one open, one with
htpasswd auth, per xdist worker), an isolated Docker config, and real bundles built with the
bundle writer."""

from __future__ import annotations

import importlib.util
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from samepack.bundle.format import layout
from samepack.bundle.format.manifest import PART_ORDER, Manifest
from samepack.bundle.write.writer import Source, write_part
from samepack.oci.localregistry import LocalRegistry
from support import require_tool

USER = "alice"
PASSWORD = "s3cret-Pa55-word"


def _registry(factory: pytest.TempPathFactory, name: str, **auth: str):
    require_tool("docker-registry")
    if auth:
        require_tool("htpasswd")
    server = LocalRegistry(factory.mktemp(name), **auth).start()
    return server


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory):
    """An open registry shared by the tests of this worker; use a fresh repository per test."""
    server = _registry(tmp_path_factory, "registry")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory):
    """A registry with htpasswd (bcrypt) basic auth for USER/PASSWORD."""
    server = _registry(tmp_path_factory, "auth-registry", user=USER, password=PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def own_registry(tmp_path: Path):
    """A registry of the test's own, for tests that stop and restart it."""
    require_tool("docker-registry")
    server = LocalRegistry(tmp_path / "own-registry").start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets an empty Docker config dir and no registry credentials from the env."""
    directory = tmp_path / "docker-config"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    monkeypatch.delenv("SAMEPACK_REGISTRY_USER", raising=False)
    monkeypatch.delenv("SAMEPACK_REGISTRY_PASSWORD", raising=False)
    return directory


def build_bundle(out: Path, parts: dict[str, dict[str, bytes]], *, name: str = "demo",
                 version: str = "1.0", compression: str = "gzip") -> Path:
    """A real bundle file written by the bundle writer: ``parts`` maps part -> path -> bytes."""
    work = out.parent / f".{out.name}.parts"
    work.mkdir(parents=True)
    built, files = [], []
    with ThreadPoolExecutor(2) as pool:
        for part in [p for p in PART_ORDER if p in parts]:
            segment = work / f"{part}.seg"
            sources = [Source(path, 0o644, data=data) for path, data in parts[part].items()]
            built.append(write_part(part, sources, segment, compression, None, pool))
            files.append((part, segment))
    manifest = Manifest(name, version, 1_700_000_000, compression, "0.1.0", built)
    layout.assemble(manifest.to_bytes(), files, out)
    return out


def program_parts(epochs: int = 10, data: bytes | None = None) -> dict[str, dict[str, bytes]]:
    """A program with a small program part and a sizeable (incompressible) data part."""
    return {
        "program": {"program/samepack.yaml":
                    f"metadata: {{name: demo}}\nparameters: {{epochs: {epochs}}}\n".encode()},
        "code": {"code/train.py": b"import sys\nprint('training')\n" * 50},
        "data": {"data/blob.bin": data if data is not None else _random(3_000_000)},
    }


_CACHE: dict[int, bytes] = {}


def _random(size: int) -> bytes:
    if size not in _CACHE:
        _CACHE[size] = os.urandom(size)
    return _CACHE[size]


@pytest.fixture
def bundle_factory(tmp_path: Path):
    """``make(name, **program_parts kwargs)`` -> a bundle file in tmp_path."""

    def make(file_name: str = "demo-1.0.tgz", *, version: str = "1.0",
             compression: str = "gzip", **kwargs) -> Path:
        return build_bundle(tmp_path / "bundles" / file_name, program_parts(**kwargs),
                            version=version, compression=compression)

    return make


@pytest.fixture(scope="session")
def oci_helper():
    """``oci_helper("faultproxy")``: import a helper module that sits beside these tests
    (tests/ is not a package)."""

    def load(name: str):
        path = Path(__file__).with_name(f"{name}.py")
        spec = importlib.util.spec_from_file_location(f"oci_test_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def auth_credentials() -> tuple[str, str]:
    """(user, password) accepted by ``auth_registry``."""
    return USER, PASSWORD
