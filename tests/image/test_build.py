"""``samepack build`` for real: the wine-quality project built on a local Debian base with the
Docker engine and with buildah, then run to check the locked packages import inside."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support import require_tool
from tests.image.conftest import BASE_TAG
from tests.image.layers import buildah_layer_paths, build_inputs_in, docker_layer_paths

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.network,
              pytest.mark.xdist_group("images")]

MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json, "
                  "application/vnd.docker.distribution.manifest.v2+json")
CHECK = ("import os, six, yaml; print(os.getuid(), six.__version__, yaml.__version__, "
         "sorted(os.listdir('/app')))")


@pytest.fixture
def wine_project(fixture_project, wheelhouse_lock) -> Path:
    project = fixture_project("wine-quality")
    shutil.copy(wheelhouse_lock[1], project / "requirements.txt")
    (project / ".env").write_text("STORAGE_KEY=do-not-ship\n")
    (project / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    return project


def _build(samepack, project: Path, wheels: Path, env: dict, *extra: str):
    result = samepack("build", project, "--base-image", "samepack-test-base:bookworm",
                      "--wheelhouse", wheels, *extra, env=env)
    assert result.exit_code == 0, result.stderr
    return result


def _recorded(project: Path) -> dict:
    return json.loads((project / ".samepack" / "env.json").read_text())["image"]


def test_docker_build_installs_the_lock_and_runs_as_non_root(samepack, wine_project, docker_base,
                                                            dockerd, wheelhouse_lock, tmp_path):
    import docker

    result = _build(samepack, wine_project, wheelhouse_lock[0], {"DOCKER_HOST": dockerd},
                    "--builder", "docker", "--tag", "wine-quality:docker-test")
    assert "Step" in result.stderr  # the build output was streamed
    record = _recorded(wine_project)
    assert record["builder"] == "docker" and record["ref"] == "wine-quality:docker-test"
    client = docker.DockerClient(base_url=dockerd)
    image = client.images.get("wine-quality:docker-test")
    assert image.id == record["digest"]
    assert image.labels["org.opencontainers.image.version"] == "1.0"
    output = client.containers.run(image.id, ["python", "-c", CHECK], remove=True,
                                   network_mode="none").decode()
    uid, six_version, yaml_version, listing = output.split(" ", 3)
    assert (uid, six_version, yaml_version) == ("1000", "1.17.0", "6.0.3")
    assert "train.py" in listing and "samepack.yaml" in listing
    for kept_out in (".env", "id_rsa", "data", "mlruns", ".samepack"):
        assert f"'{kept_out}'" not in listing
    assert (wine_project / ".samepack" / "build" / "Dockerfile").is_file()
    _assert_only_the_installed_environment(docker_layer_paths(client, image.id, docker_base, tmp_path))


def _assert_only_the_installed_environment(layers: list[list[str]]) -> None:
    """The layers the build added to the base hold the venv and the code, and nothing the
    install alone needed (uv, the wheelhouse, the staged lock): those stay in the install
    stage, which is no part of the image."""
    every = {path for paths in layers for path in paths}
    assert {"opt/venv/bin/python", "app/train.py"} <= every  # the layers were read
    assert build_inputs_in(layers) == []


def _buildah(env: dict, *args: str) -> str:
    return subprocess.run(["buildah", *args], env={**os.environ, **env}, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_buildah_builds_the_same_image_twice_pushes_it_and_it_runs(samepack, wine_project,
                                                                    buildah_env, wheelhouse_lock,
                                                                    tmp_path):
    import requests

    from samepack.oci.localregistry import LocalRegistry

    require_tool("docker-registry", "the loopback registry for --push")
    env = {**buildah_env, "SOURCE_DATE_EPOCH": "1700000000"}
    built = _build(samepack, wine_project, wheelhouse_lock[0], env, "--builder", "buildah",
                   "--tag", "localhost/wine-quality:one", "--json")
    first = _recorded(wine_project)
    assert json.loads(built.stdout) == {"ok": True, "ref": "localhost/wine-quality:one",
                                        "builder": "buildah", "digest": first["digest"],
                                        "image_id": first["image_id"], "base": first["base"],
                                        "pushed": False, "pinned": "localhost/wine-quality:one"}
    registry = LocalRegistry(tmp_path / "registry").start()
    try:
        ref = f"{registry.host}/ml/wine:1.0"
        result = _build(samepack, wine_project, wheelhouse_lock[0], env, "--builder", "buildah",
                        "--tag", ref, "--push")
        second = _recorded(wine_project)
        manifest = requests.head(f"http://{registry.host}/v2/ml/wine/manifests/1.0", timeout=10,
                                 headers={"Accept": MANIFEST_TYPES})
    finally:
        registry.stop()
    assert first["image_id"] == second["image_id"]  # reproducible: --timestamp SOURCE_DATE_EPOCH
    assert second["pushed"] is True and second["digest"] == manifest.headers["Docker-Content-Digest"]
    assert f"pushed {registry.host}/ml/wine@{second['digest']}" in result.stdout
    container = _buildah(buildah_env, "from", "localhost/wine-quality:one")
    try:
        output = _buildah(buildah_env, "run", container, "--", "python", "-c", CHECK)
    finally:
        _buildah(buildah_env, "rm", container)
    assert output.startswith("1000 1.17.0 6.0.3 ")
    assert "'.env'" not in output and "'train.py'" in output
    _assert_only_the_installed_environment(
        buildah_layer_paths(buildah_env, "localhost/wine-quality:one", f"localhost/{BASE_TAG}",
                            tmp_path / "oci"))


def test_no_builder_is_a_one_line_error_and_leaves_the_dockerfile(samepack, wine_project,
                                                                  tmp_path):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    env = {"DOCKER_HOST": f"unix://{tmp_path}/nothing.sock", "PATH": str(empty_bin)}
    result = samepack("build", wine_project, env=env)
    assert result.exit_code == 6
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [errors[0]] and errors[0].startswith("error: no image builder")
    assert "hint: install Docker" in result.stderr and "Traceback" not in result.stderr
    assert (wine_project / ".samepack" / "build" / "Dockerfile").is_file()
    assert (wine_project / ".samepack" / "build" / "context" / "app" / "train.py").is_file()
    assert not (wine_project / ".samepack" / "build" / "context" / "app" / ".env").exists()


def test_build_json_answers_failures_as_one_document(samepack, wine_project, tmp_path):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    env = {"DOCKER_HOST": f"unix://{tmp_path}/nothing.sock", "PATH": str(empty_bin)}
    result = samepack("build", wine_project, "--json", env=env)
    assert result.exit_code == 6
    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == 6 and error["message"].startswith("no image builder")
    usage = samepack("build", wine_project, "--push", "--json")
    assert usage.exit_code == 2 and "--push needs --tag" in json.loads(usage.stdout)["error"]["message"]
