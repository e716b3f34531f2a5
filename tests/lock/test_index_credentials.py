"""The credentials a lock names as ``${VAR}`` reach the installing tool: on the project's own
machine from the project's files, elsewhere from the variable or a netrc entry, and a missing
one is named before uv runs. The index is real (wheels over HTTP on 127.0.0.1, the private one
behind basic credentials), and so are uv, the lock and the run."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from index_server import serve_indexes
from lockbuilders import FakeDist, build_wheel

from samepack.envcreate.index_credentials import (needed_variables, supplied_variables,
                                                 uv_index_flags)
from samepack.lock.credentials import credential_values
from samepack.lock.indexes import IndexOptions

SECRET = "Pr1vate-Idx-s3cret"
# a step that prints its whole environment: a supplied credential must not be in it
PROGRAM = """\
apiVersion: samepack.dev/v1
kind: Program
metadata: {name: private-demo, version: "1.0"}
steps:
  train: {run: "python train.py"}
"""
TRAIN = "import os, special\nprint('special', special.__version__)\nprint(dict(os.environ))\n"


@pytest.fixture
def private_index(wheel_dir: Path, tmp_path: Path):
    """``(server, variable)``: the main index (the test catalogue) and a private one holding
    ``special`` (needing ``alpha`` from the main one) that answers only alice:SECRET."""
    private = tmp_path / "private-wheels"
    private.mkdir()
    special = build_wheel(FakeDist("special", "3.0", requires=("alpha",)), private)
    with serve_indexes({"main": sorted(wheel_dir.glob("*.whl")), "private": [special]},
                       {"private": ("alice", SECRET)}) as server:
        port = server.rsplit(":", 1)[1]
        yield server, f"SAMEPACK_INDEX_127_0_0_1_{port}_PASSWORD"


def _locked_project(samepack, tmp_path: Path, server: str, password: str = SECRET) -> Path:
    """A project whose requirements.txt writes the private index with its literal password,
    locked by package-env (the lock is requirements.lock)."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "requirements.txt").write_text(
        f"--index-url {server}/main/\n"
        f"--extra-index-url http://alice:{password}@{server[len('http://'):]}/private/\nspecial\n")
    (root / "train.py").write_text(TRAIN)
    (root / "samepack.yaml").write_text(PROGRAM)
    locked = samepack("package-env", root)
    assert locked.exit_code == 0, locked.stderr
    assert password not in (root / "requirements.lock").read_text()
    return root


def _files_holding(secret: str, *folders: Path) -> list[Path]:
    """Every file under ``folders`` whose bytes (or, gzip, decompressed bytes) hold ``secret``."""
    found = []
    for folder in folders:
        for path in folder.rglob("*"):
            if not path.is_file() or path.is_symlink():
                continue
            data = path.read_bytes()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            if secret.encode() in data:
                found.append(path)
    return found


def test_on_the_projects_machine_env_create_and_run_need_no_exported_password(
        samepack, tmp_path, private_index, samepack_home, monkeypatch):
    server, variable = private_index
    monkeypatch.delenv(variable, raising=False)
    root = _locked_project(samepack, tmp_path, server)

    created = samepack("env", "create", root, "--prefix", tmp_path / "env")
    assert created.exit_code == 0, created.stderr
    python = Path(created.stdout.strip())
    done = subprocess.run([str(python), "-c", "import special, alpha"], capture_output=True)
    assert done.returncode == 0, done.stderr

    ran = samepack("run", "-f", root / "samepack.yaml")
    assert ran.exit_code == 0, ran.stderr
    assert "special 3.0" in ran.stdout  # the step ran in the environment made from the lock
    assert variable not in os.environ  # supplied to uv only, not to this process (or steps)

    refused = samepack("export", "program", "-n", "private-demo", "-o", tmp_path / "out.tgz")
    assert refused.exit_code == 3  # the project's requirements.txt holds the password
    assert "password in a URL" in refused.stderr and not (tmp_path / "out.tgz").exists()
    for text in (created.stdout, created.stderr, ran.stdout, ran.stderr, refused.stderr):
        assert SECRET not in text
    # the project's own requirements.txt holds it (the user wrote it there); nothing samepack
    # wrote does: lock, env.json, created-env.json, history, logs, environments
    written = _files_holding(SECRET, root, samepack_home, tmp_path / "env")
    assert written == [root / "requirements.txt"]


def test_elsewhere_a_missing_variable_is_named_before_uv_runs_and_the_variable_is_used(
        samepack, tmp_path, private_index, samepack_home, monkeypatch):
    server, variable = private_index
    monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    root = _locked_project(samepack, tmp_path, server)
    elsewhere = tmp_path / "colleague"  # the lock, its record and the program: no requirements.txt
    (elsewhere / ".samepack").mkdir(parents=True)
    for name in ("requirements.lock", ".samepack/env.json", "samepack.yaml"):
        shutil.copy(root / name, elsewhere / name)
    # here the user exports the variable, which steps see as any other: they print none
    (elsewhere / "train.py").write_text("import special\nprint('special', special.__version__)\n")

    prefix = tmp_path / "env"
    refused = samepack("env", "create", elsewhere, "--prefix", prefix)
    assert refused.exit_code == 3, refused.stderr
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: requirements.lock: the index http://alice:${{{variable}}}@"
                      f"{server[len('http://'):]}/private/ needs {variable}, which is not set"]
    assert f"set {variable}" in refused.stderr and "Traceback" not in refused.stderr
    assert not prefix.exists()  # uv venv did not run

    not_run = samepack("run", "-f", elsewhere / "samepack.yaml")
    assert not_run.exit_code == 3 and variable in not_run.stderr
    envs = samepack_home / "envs"
    assert not envs.is_dir() or not [p for p in envs.iterdir() if p.is_dir()]

    monkeypatch.setenv(variable, SECRET)
    created = samepack("env", "create", elsewhere, "--prefix", prefix)
    assert created.exit_code == 0, created.stderr
    ran = samepack("run", "-f", elsewhere / "samepack.yaml")
    assert ran.exit_code == 0, ran.stderr
    assert "special 3.0" in ran.stdout

    # its bundle (with the run that had the variable) holds no secret; imported on a machine
    # without the variable, its environment is refused before uv runs
    bundle = tmp_path / "bundle.tgz"
    exported = samepack("export", "program", "-n", "private-demo", "-o", bundle)
    assert exported.exit_code == 0, exported.stderr
    assert _files_holding(SECRET, tmp_path / "colleague", samepack_home, prefix) == []
    assert _files_holding(SECRET, bundle.parent / "bundle.tgz") == []
    monkeypatch.delenv(variable)
    monkeypatch.setenv("SAMEPACK_HOME", str(tmp_path / "other-home"))
    imported = samepack("import", bundle, "--env")
    assert imported.exit_code == 3 and f"needs {variable}, which is not set" in imported.stderr
    made = list((tmp_path / "other-home").rglob("pyvenv.cfg"))
    assert made == []  # no environment begun
    monkeypatch.setenv(variable, SECRET)
    again = samepack("import", bundle, "--env")
    assert again.exit_code == 0, again.stderr
    assert len(list((tmp_path / "other-home").rglob("pyvenv.cfg"))) == 1
    for text in (refused.stderr, not_run.stderr, created.stderr, ran.stdout, ran.stderr,
                 exported.stderr, imported.stderr, again.stdout, again.stderr):
        assert SECRET not in text


def test_elsewhere_a_netrc_entry_for_the_host_supplies_the_password(
        samepack, tmp_path, wheel_dir, monkeypatch):
    """uv sends a URL's own ``${VAR}`` as written, before asking netrc: samepack reads the
    netrc entry itself. The password needs quoting inside a URL (``@``, ``/``, ``:``)."""
    odd = "n3t@rc/pass:w"
    private = tmp_path / "private-wheels"
    private.mkdir()
    special = build_wheel(FakeDist("special", "3.0", requires=("alpha",)), private)
    with serve_indexes({"main": sorted(wheel_dir.glob("*.whl")), "private": [special]},
                       {"private": ("alice", odd)}) as server:
        variable = f"SAMEPACK_INDEX_127_0_0_1_{server.rsplit(':', 1)[1]}_PASSWORD"
        monkeypatch.delenv(variable, raising=False)
        root = _locked_project(samepack, tmp_path, server, password="n3t%40rc%2Fpass%3Aw")
        (root / "requirements.txt").unlink()  # as on a machine with the lock only
        netrc = tmp_path / "netrc"
        netrc.write_text(f"machine 127.0.0.1 login bob password {odd}\n")
        netrc.chmod(0o600)
        monkeypatch.setenv("NETRC", str(netrc))
        wrong_login = samepack("env", "create", root, "--prefix", tmp_path / "env")
        assert wrong_login.exit_code == 3 and variable in wrong_login.stderr

        netrc.write_text(f"machine 127.0.0.1 login alice password {odd}\n")
        created = samepack("env", "create", root, "--prefix", tmp_path / "env")
        assert created.exit_code == 0, created.stderr
        assert odd not in created.stderr + created.stdout
        done = subprocess.run([created.stdout.strip(), "-c", "import special"],
                              capture_output=True)
        assert done.returncode == 0, done.stderr


def test_the_variables_an_install_needs_are_those_uv_reads():
    lock = ("--index-url https://pypi.org/simple\n"
            "--extra-index-url https://alice:${CORP_PW}@corp.example/simple\n"
            "x @ https://${TOKEN}@files.example/x-1-py3-none-any.whl --hash=sha256:00\n")
    named = needed_variables(lock, IndexOptions())
    assert [(n.variable, n.url) for n in named] == [
        ("CORP_PW", "https://alice:${CORP_PW}@corp.example/simple"),
        ("TOKEN", "https://${TOKEN}@files.example/x-1-py3-none-any.whl")]
    recorded = IndexOptions(index_url="https://${MIRROR_TOKEN}@mirror.example/simple",
                            find_links=("vendor",))
    assert [n.variable for n in needed_variables("", recorded)] == ["MIRROR_TOKEN"]
    offline = IndexOptions(index_url=recorded.index_url, no_index=True)
    assert needed_variables("", offline) == []  # --no-index: uv asks no index
    assert credential_values("https://alice:p%40ss@corp.example:8443/simple") == {
        "SAMEPACK_INDEX_CORP_EXAMPLE_8443_PASSWORD": "p%40ss"}
    assert credential_values("https://tok@fury.example/") == {"SAMEPACK_INDEX_FURY_EXAMPLE_TOKEN": "tok"}
    assert credential_values("https://alice:${PW}@corp.example/") == {}


def test_a_pyproject_index_supplies_its_password_and_an_exported_variable_wins(
        tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\n\n[[tool.uv.index]]\nname = "corp"\n'
        'url = "https://alice:py%2Fproject@corp.example/simple"\n')
    variable = "SAMEPACK_INDEX_CORP_EXAMPLE_PASSWORD"
    lock = f"--extra-index-url https://alice:${{{variable}}}@corp.example/simple\n\nx==1\n"
    monkeypatch.delenv(variable, raising=False)
    assert supplied_variables(tmp_path, "requirements.txt", lock, IndexOptions()) == {
        variable: "py%2Fproject"}
    monkeypatch.setenv(variable, "exported")
    assert supplied_variables(tmp_path, "requirements.txt", lock, IndexOptions()) == {}


def test_a_supplied_credential_reaches_uv_through_its_environment_not_its_command_line(
        tmp_path, monkeypatch):
    monkeypatch.delenv("CORP_PW", raising=False)
    index = IndexOptions(index_url="https://mirror.example/simple", find_links=("vendor",),
                         extra_index_urls=("https://alice:${CORP_PW}@corp.example/simple",
                                           "https://download.pytorch.org/whl/cpu"))
    args, variables = uv_index_flags(index, tmp_path, {"CORP_PW": SECRET})
    assert args == ["--find-links", str(tmp_path / "vendor"),
                    "--index-url", "https://mirror.example/simple"]
    assert variables == {"UV_EXTRA_INDEX_URL": f"https://alice:{SECRET}@corp.example/simple "
                                                "https://download.pytorch.org/whl/cpu"}
    assert uv_index_flags(index, tmp_path, {}) == (index.args(tmp_path), {})


def test_a_missing_token_is_named_and_netrc_offered_only_for_a_password(tmp_path, monkeypatch):
    from samepack.errors import InputError

    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    for name in ("FURY_TOKEN", "CORP_PW"):
        monkeypatch.delenv(name, raising=False)
    for lock, netrc_offered in (("--extra-index-url https://${FURY_TOKEN}@pypi.fury.io/team/\n", False),
                                ("--extra-index-url https://bob:${CORP_PW}@corp.example/simple\n", True)):
        with pytest.raises(InputError) as refused:
            supplied_variables(tmp_path, "requirements.txt", lock, IndexOptions())
        variable = "FURY_TOKEN" if not netrc_offered else "CORP_PW"
        assert refused.value.message.startswith("requirements.txt: the index https://")
        assert refused.value.message.endswith(f"needs {variable}, which is not set")
        assert ("~/.netrc" in refused.value.hint) is netrc_offered
