"""Two private indexes on one host with different credentials (one Artifactory, Nexus or GitLab
serving several repositories) get a variable each in the lock, so each index is sent its own
credential: on the project's machine from the project's files, elsewhere from the two exported
variables. Real parts: one HTTP server on 127.0.0.1 with two password-protected indexes, a
project requiring one package from each, package-env, env create and uv."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from index_server import serve_indexes
from lockbuilders import FakeDist, build_wheel
from test_index_credentials import _files_holding

SECRET_A = "team-A-s3cret-one"
SECRET_B = "team-B-s3cret-two"


@pytest.fixture
def two_private_indexes(wheel_dir: Path, tmp_path: Path):
    """``(server, prefix)``: the main index and ``/team-a/`` (holding ``teama``) and
    ``/team-b/`` (holding ``teamb``, which needs ``alpha`` from the main index) on one port,
    answering only ``ci:SECRET_A`` and ``ci:SECRET_B``; ``prefix`` is the host's variable
    prefix (``SAMEPACK_INDEX_127_0_0_1_PORT``)."""
    wheels = tmp_path / "team-wheels"
    wheels.mkdir()
    team_a = build_wheel(FakeDist("teama", "1.0"), wheels)
    team_b = build_wheel(FakeDist("teamb", "2.0", requires=("alpha",)), wheels)
    with serve_indexes({"main": sorted(wheel_dir.glob("*.whl")), "team-a": [team_a],
                        "team-b": [team_b]},
                       {"team-a": ("ci", SECRET_A), "team-b": ("ci", SECRET_B)}) as server:
        yield server, f"SAMEPACK_INDEX_127_0_0_1_{server.rsplit(':', 1)[1]}"


def _project(tmp_path: Path, server: str) -> Path:
    host = server[len("http://"):]
    root = tmp_path / "project"
    root.mkdir()
    (root / "requirements.txt").write_text(
        f"--index-url {server}/main/\n"
        f"--extra-index-url http://ci:{SECRET_A}@{host}/team-a/\n"
        f"--extra-index-url http://ci:{SECRET_B}@{host}/team-b/\n"
        "teama\nteamb\n")
    return root


def _imports_both(python: str) -> None:
    done = subprocess.run([python, "-c", "import teama, teamb, alpha"], capture_output=True)
    assert done.returncode == 0, done.stderr


def test_two_indexes_on_one_host_get_a_variable_each_here_and_elsewhere(
        samepack, tmp_path, two_private_indexes, samepack_home, monkeypatch):
    server, prefix = two_private_indexes
    team_a, team_b = f"{prefix}_TEAM_A_PASSWORD", f"{prefix}_TEAM_B_PASSWORD"
    for name in (team_a, team_b, f"{prefix}_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    root = _project(tmp_path, server)

    locked = samepack("package-env", root)
    assert locked.exit_code == 0, locked.stderr
    lock = (root / "requirements.lock").read_text()
    host = server[len("http://"):]
    assert f"--extra-index-url http://ci:${{{team_a}}}@{host}/team-a/\n" in lock
    assert f"--extra-index-url http://ci:${{{team_b}}}@{host}/team-b/\n" in lock
    # the warning names what to set for each index
    assert team_a in locked.stderr and team_b in locked.stderr
    check = samepack("package-env", root, "--check")
    assert check.exit_code == 0, check.stdout + check.stderr

    # on the project's machine: each literal from requirements.txt goes to its own index
    here = samepack("env", "create", root, "--prefix", tmp_path / "env-here")
    assert here.exit_code == 0, here.stderr
    _imports_both(here.stdout.strip())

    # elsewhere: the lock and its record only, and the two variables exported
    elsewhere = tmp_path / "colleague"
    (elsewhere / ".samepack").mkdir(parents=True)
    for name in ("requirements.lock", ".samepack/env.json"):
        shutil.copy(root / name, elsewhere / name)
    monkeypatch.setenv(team_a, SECRET_A)
    refused = samepack("env", "create", elsewhere, "--prefix", tmp_path / "env-there")
    assert refused.exit_code == 3 and f"needs {team_b}, which is not set" in refused.stderr
    assert not (tmp_path / "env-there").exists()
    monkeypatch.setenv(team_b, SECRET_B)
    there = samepack("env", "create", elsewhere, "--prefix", tmp_path / "env-there")
    assert there.exit_code == 0, there.stderr
    _imports_both(there.stdout.strip())

    for secret in (SECRET_A, SECRET_B):
        for text in (locked.stdout, locked.stderr, check.stdout, here.stdout, here.stderr,
                     refused.stderr, there.stdout, there.stderr):
            assert secret not in text
        written = _files_holding(secret, root, elsewhere, samepack_home, tmp_path / "env-here",
                                 tmp_path / "env-there")
        assert written == [root / "requirements.txt"]


def test_a_flags_credential_and_a_files_on_one_host_are_named_apart_and_check_agrees(
        samepack, tmp_path, two_private_indexes, monkeypatch):
    """team-a's credential given on the command line, team-b's in requirements.txt: the lock
    names both for their places; --check, which sees the flag only as its recorded reference,
    names the file's literal as the lock did; env create takes team-b's from the file."""
    server, prefix = two_private_indexes
    team_a, team_b = f"{prefix}_TEAM_A_PASSWORD", f"{prefix}_TEAM_B_PASSWORD"
    for name in (team_a, team_b):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    host = server[len("http://"):]
    root = tmp_path / "project"
    root.mkdir()
    (root / "requirements.txt").write_text(
        f"--extra-index-url http://ci:{SECRET_B}@{host}/team-b/\n"
        f"--extra-index-url {server}/main/\nteama\nteamb\n")
    locked = samepack("package-env", root, "--index-url", f"http://ci:{SECRET_A}@{host}/team-a/")
    assert locked.exit_code == 0, locked.stderr
    lock = (root / "requirements.lock").read_text()
    assert f"--index-url http://ci:${{{team_a}}}@{host}/team-a/\n" in lock
    assert f"--extra-index-url http://ci:${{{team_b}}}@{host}/team-b/\n" in lock
    check = samepack("package-env", root, "--check")
    assert check.exit_code == 0, check.stdout + check.stderr

    monkeypatch.setenv(team_a, SECRET_A)  # the flag's credential is in no file of the project
    created = samepack("env", "create", root, "--prefix", tmp_path / "env")
    assert created.exit_code == 0, created.stderr
    _imports_both(created.stdout.strip())
    for text in (locked.stdout, locked.stderr, check.stdout, created.stdout, created.stderr):
        assert SECRET_A not in text and SECRET_B not in text
    assert _files_holding(SECRET_A, root) == []
    assert _files_holding(SECRET_B, root) == [root / "requirements.txt"]


def test_netrc_supplies_no_password_it_cannot_tell_from_another_of_its_host(
        tmp_path, monkeypatch):
    """netrc has one password per host and login: with two variables for one user on one host
    it would send the same to both, so neither is taken from it (nor offered)."""
    from samepack.envcreate.index_credentials import supplied_variables
    from samepack.errors import InputError
    from samepack.lock.indexes import IndexOptions

    netrc = tmp_path / "netrc"
    netrc.write_text("machine artifactory.corp login ci password from-netrc\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    team_a = "SAMEPACK_INDEX_ARTIFACTORY_CORP_TEAM_A_PASSWORD"
    team_b = "SAMEPACK_INDEX_ARTIFACTORY_CORP_TEAM_B_PASSWORD"
    for name in (team_a, team_b, "SAMEPACK_INDEX_ARTIFACTORY_CORP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    both = (f"--extra-index-url https://ci:${{{team_a}}}@artifactory.corp/api/pypi/team-a/simple\n"
            f"--extra-index-url https://ci:${{{team_b}}}@artifactory.corp/api/pypi/team-b/simple\n")
    with pytest.raises(InputError) as refused:
        supplied_variables(tmp_path, "requirements.lock", both, IndexOptions())
    assert refused.value.message.endswith(f"needs {team_a}, which is not set")
    assert "netrc" not in refused.value.hint
    # one of them set: the other is still not netrc's to give
    monkeypatch.setenv(team_a, "exported")
    with pytest.raises(InputError) as still:
        supplied_variables(tmp_path, "requirements.lock", both, IndexOptions())
    assert still.value.message.endswith(f"needs {team_b}, which is not set")
    # the host's one variable: netrc gives it, as before
    one = "--extra-index-url https://ci:${SAMEPACK_INDEX_ARTIFACTORY_CORP_PASSWORD}@artifactory.corp/simple\n"
    assert supplied_variables(tmp_path, "requirements.lock", one, IndexOptions()) == {
        "SAMEPACK_INDEX_ARTIFACTORY_CORP_PASSWORD": "from-netrc"}


def test_the_projects_files_supply_each_repositorys_own_literal(tmp_path, monkeypatch):
    """Which literal of requirements.txt belongs to which variable of the lock."""
    from samepack.envcreate.index_credentials import supplied_variables
    from samepack.lock.indexes import IndexOptions

    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    team_a = "SAMEPACK_INDEX_ARTIFACTORY_CORP_TEAM_A_PASSWORD"
    team_b = "SAMEPACK_INDEX_ARTIFACTORY_CORP_TEAM_B_PASSWORD"
    for name in (team_a, team_b):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "requirements.txt").write_text(
        "--extra-index-url https://ci:tokB@artifactory.corp/api/pypi/team-b/simple\n"
        "--extra-index-url https://ci:tokA@artifactory.corp/api/pypi/team-a/simple\nx\n")
    lock = (f"--extra-index-url https://ci:${{{team_a}}}@artifactory.corp/api/pypi/team-a/simple\n"
            f"--extra-index-url https://ci:${{{team_b}}}@artifactory.corp/api/pypi/team-b/simple\n"
            "\nx==1 --hash=sha256:00\n")
    assert supplied_variables(tmp_path, "requirements.lock", lock, IndexOptions()) == {
        team_a: "tokA", team_b: "tokB"}
    # a lock where team-a came from a flag (its record's reference), team-b from the files
    (tmp_path / "requirements.txt").write_text(
        "--extra-index-url https://ci:tokB@artifactory.corp/api/pypi/team-b/simple\nx\n")
    monkeypatch.setenv(team_a, "exported")
    assert supplied_variables(tmp_path, "requirements.lock", lock, IndexOptions()) == {
        team_b: "tokB"}
