"""Which docker CLI runs BuildKit builds, and the secret arguments it is given: real CLIs on
PATH, real files (no engine needed; the builds themselves are in test_build_docker_secrets.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from samepack.image.buildkit import BuildKitCli, find_buildkit_cli, secret_arguments
from tests.image.test_build_docker_secrets import buildkit_cli

ENV = {"SAMEPACK_INDEX_A_PASSWORD": "pw-a", "SAMEPACK_INDEX_B_TOKEN": "tok-b"}


def test_a_cli_that_reads_variables_gets_env_sources_and_no_file_is_written(tmp_path,
                                                                             monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with secret_arguments(BuildKitCli("docker", (20, 10)), tuple(ENV), ENV) as arguments:
        assert arguments == ["--secret=id=SAMEPACK_INDEX_A_PASSWORD,env=SAMEPACK_INDEX_A_PASSWORD",
                             "--secret=id=SAMEPACK_INDEX_B_TOKEN,env=SAMEPACK_INDEX_B_TOKEN"]
        assert list(tmp_path.iterdir()) == []


def test_a_file_only_cli_gets_private_files_removed_even_when_the_build_fails(tmp_path,
                                                                             monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen: dict[str, tuple[int, str]] = {}
    with pytest.raises(RuntimeError):
        with secret_arguments(BuildKitCli("docker", (19, 3)), tuple(ENV), ENV) as arguments:
            for argument in arguments:
                name, source = argument.removeprefix("--secret=id=").split(",src=")
                path = Path(source)
                seen[name] = (stat.S_IMODE(path.stat().st_mode), path.read_text())
                assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
                assert path.parent.parent == tmp_path  # its own folder, no build context's
            raise RuntimeError("the build failed")
    assert seen == {name: (0o600, value) for name, value in ENV.items()}
    assert list(tmp_path.iterdir()) == []


def test_the_first_docker_on_path_that_builds_with_buildkit_is_taken(tmp_path):
    real = buildkit_cli()
    other = tmp_path / "other"
    other.mkdir()
    (other / "docker").symlink_to("/bin/true")  # a `docker` whose build lists no --secret
    path = os.pathsep.join([str(other), os.path.dirname(real.executable)])
    found = find_buildkit_cli({"PATH": path})
    assert found.cli == real
    none_left = find_buildkit_cli({"PATH": str(other)})
    assert none_left.cli is None and none_left.why_not == f"{other / 'docker'}: no --secret"
    assert find_buildkit_cli({"PATH": str(tmp_path / "empty")}).why_not == \
        "no docker CLI is on PATH"


def test_docker_buildkit_0_turns_it_off_as_for_docker_build():
    for value in ("0", "false"):
        found = find_buildkit_cli({"PATH": os.environ["PATH"], "DOCKER_BUILDKIT": value})
        assert found.cli is None and found.why_not == f"DOCKER_BUILDKIT={value} turns it off"
