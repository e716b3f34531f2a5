"""``samepack build --builder docker`` of a lock that needs a password-protected index: the
build runs on the engine's BuildKit (through a docker CLI on PATH), the password reaches the
install step as a build secret only. Real dockerd, real index on 127.0.0.1, real layers read."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from samepack.image.buildkit import BuildKitCli, buildkit_build, find_buildkit_cli
from samepack.image.building import BuildRequest
from support import IN_CI
from tests.image.private_index import locked_private_project

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.xdist_group("images")]

SECRET = "s3cret-Passw0rd-bk"
CHECK = ("import os, special; print(special.__version__, "
         "len(os.listdir('/run/secrets')) if os.path.isdir('/run/secrets') else 0, "
         "sorted(os.listdir('/app')), sorted(os.environ))")


def buildkit_cli() -> BuildKitCli:
    found = find_buildkit_cli()
    if found.cli is None:
        message = f"no docker CLI builds with BuildKit here: {found.why_not}"
        if IN_CI:
            pytest.fail(message + " (docker.io's CLI does: scripts/setup.sh installs it)")
        pytest.skip(message)
    return found.cli


def _data_root(docker_host: str) -> Path:
    """The data root of the test engine (tests/image/conftest.py puts it beside its socket)."""
    return Path(docker_host.removeprefix("unix://")).parent / "data"


def _files_holding(root: Path, needle: str) -> list[str]:
    """Every file under ``root`` whose bytes hold ``needle`` (grep, as root reads all)."""
    found = subprocess.run(["grep", "-rlF", "--", needle, str(root)], capture_output=True,
                           text=True)
    assert found.returncode in (0, 1), found.stderr
    return found.stdout.split()


def _image_bytes(client, ref: str, where: Path) -> bytes:
    """The image as ``docker save`` writes it: configuration, history and every layer."""
    archive = where / "saved.tar"
    with archive.open("wb") as out:
        for chunk in client.images.get(ref).save(named=False):
            out.write(chunk)
    return archive.read_bytes()  # layers are plain tars inside, so a value would show as is


def test_docker_builds_a_lock_with_a_private_index_through_buildkit_secrets(
        samepack, tmp_path, docker_base, dockerd, monkeypatch):
    import docker

    buildkit_cli()  # fails under CI=true when no docker CLI here builds with BuildKit
    with locked_private_project(samepack, tmp_path, SECRET) as project:
        root, variable, lock = project.root, project.variable, project.lock
        monkeypatch.setenv(variable, SECRET)
        built = samepack("build", root, "--builder", "docker", "--network", "host",
                         "--base-image", docker_base, "--tag", "private:docker",
                         env={"DOCKER_HOST": dockerd})
        assert built.exit_code == 0, built.stderr
    assert "[install " in built.stderr and "--mount=type=secret" in built.stderr  # BuildKit ran
    record = json.loads((root / ".samepack" / "env.json").read_text())["image"]
    assert record["builder"] == "docker" and record["ref"] == "private:docker"

    client = docker.DockerClient(base_url=dockerd)
    image = client.images.get("private:docker")
    assert record["image_id"] == image.id
    output = client.containers.run("private:docker", ["python", "-c", CHECK], remove=True,
                                   network_mode="none").decode()
    assert output.split(" ", 2)[:2] == ["3.0", "0"]  # installed from the index; no secret left
    assert variable not in output and "requirements.txt" not in output

    dockerfile = (root / ".samepack" / "build" / "Dockerfile").read_text()
    assert f"--mount=type=secret,id={variable}" in dockerfile
    history = json.dumps(image.history())
    assert "COPY /opt/venv /opt/venv" in history  # the history is there to be searched
    for text in (dockerfile, built.stdout, built.stderr, lock, json.dumps(record), history,
                 json.dumps(image.attrs), json.dumps(client.df()["BuildCache"])):
        assert SECRET not in text
    assert SECRET.encode() not in _image_bytes(client, "private:docker", tmp_path)
    assert _files_holding(root, SECRET) == [str(root / "requirements.txt")]  # the user's own
    # nothing the engine keeps (images, layers, BuildKit's cache and its metadata) holds it
    assert _files_holding(_data_root(dockerd), SECRET) == []


def test_a_cli_that_reads_secrets_from_files_only_gets_a_private_file_removed_after(
        tmp_path, docker_base, dockerd, monkeypatch):
    """The file source (for a CLI before 20.10), driven through this machine's CLI, which reads
    both: the install step reads the value from the file, and no file is left."""
    cli = buildkit_cli()
    files_only = BuildKitCli(cli.executable, (19, 3))
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(
        f"FROM {docker_base} AS install\n"
        "RUN --mount=type=secret,id=SAMEPACK_INDEX_X_PASSWORD "
        "sha256sum /run/secrets/SAMEPACK_INDEX_X_PASSWORD | cut -d' ' -f1 > /digest\n"
        f"FROM {docker_base}\nCOPY --from=install /digest /digest\n")
    monkeypatch.setenv("SAMEPACK_INDEX_X_PASSWORD", SECRET)
    monkeypatch.setenv("DOCKER_HOST", dockerd)
    import tempfile

    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # where the folder goes
    lines: list[str] = []
    request = BuildRequest(context, "file-secret:1", network="none",
                           secrets=("SAMEPACK_INDEX_X_PASSWORD",))
    image_id = buildkit_build(files_only, request, lines.append)
    assert list((tmp_path / "tmp").iterdir()) == []  # the private folder went with the build
    assert sorted(os.listdir(context)) == ["Dockerfile"]

    import docker

    client = docker.DockerClient(base_url=dockerd)
    assert client.images.get("file-secret:1").id == image_id
    digest = client.containers.run("file-secret:1", ["cat", "/digest"], remove=True,
                                   network_mode="none").decode().strip()
    assert digest == hashlib.sha256(SECRET.encode()).hexdigest()  # the value reached the RUN
    assert SECRET not in "\n".join(lines)
