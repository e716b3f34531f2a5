"""Trust fixtures: key pairs, the wine-quality project (a real public example) with a real
hashed lock in git, its exported bundle, and a real registry on 127.0.0.1."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support import FIXTURES, require_tool
from trust.helpers import IMAGE, LOCKS, git



@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """``me`` (Ed25519) and ``other`` (ECDSA P-256) key pairs: {name.key / name.pub: path}."""
    from samepack.trust.keys import ECDSA_P256, ED25519, generate_key_pair

    monkeypatch.delenv("SAMEPACK_KEY_PASSWORD", raising=False)
    monkeypatch.delenv("SAMEPACK_POLICY", raising=False)
    folder = tmp_path / "keys"
    folder.mkdir()
    found = {}
    for name, scheme in (("me", ED25519), ("other", ECDSA_P256)):
        private, public = generate_key_pair(folder / name, scheme)
        found[f"{name}.key"], found[f"{name}.pub"] = private, public
    return found


@pytest.fixture
def wine_project(tmp_path: Path) -> Path:
    """wine-quality with a real pip-compile lock and the PEP 751 example lock, an image pinned
    by digest, committed in git."""
    project = tmp_path / "wine-quality"
    shutil.copytree(FIXTURES / "wine-quality", project)
    shutil.rmtree(project / "mlruns", ignore_errors=True)
    shutil.copyfile(LOCKS / "requirements.txt", project / "requirements.txt")
    shutil.copyfile(LOCKS / "pylock.toml", project / "pylock.toml")
    program = project / "samepack.yaml"
    program.write_text(program.read_text().replace(
        "  lock: requirements.txt\n", f"  lock: requirements.txt\n  image: {IMAGE}\n"))
    git(project, "init", "-q")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "wine-quality")
    return project


@pytest.fixture
def wine_bundle(wine_project: Path, tmp_path: Path, samepack) -> Path:
    """The registered wine-quality program exported to ``bundles/wine.tgz``."""
    registered = samepack("create", "program", "-f", wine_project / "samepack.yaml")
    assert registered.exit_code == 0, registered.stderr
    out = tmp_path / "bundles" / "wine.tgz"
    out.parent.mkdir()
    exported = samepack("export", "program", "-n", "wine-quality", "-o", out, "--runs", "none")
    assert exported.exit_code == 0, exported.stderr
    return out


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory):
    """A real ``docker-registry`` (distribution 2.8: no referrers API) on 127.0.0.1."""
    from samepack.oci.localregistry import LocalRegistry

    require_tool("docker-registry")
    server = LocalRegistry(tmp_path_factory.mktemp("trust-registry")).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "docker-config"
    directory.mkdir()
    (directory / "config.json").write_text('{"auths": {}}\n')  # buildah insists on one
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory
