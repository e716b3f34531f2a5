"""The lock carries the indexes it was made from at its top, so plain ``uv pip sync LOCK`` and
``pip install --require-hashes -r LOCK`` find every package; credentials never enter it. The
indexes are real: wheels served over HTTP on 127.0.0.1 (one behind basic credentials) and a
wheel folder inside the project."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from index_server import serve_indexes
from lockbuilders import FakeDist, build_wheel

from samepack.lock.credentials import masked, without_credentials
from samepack.lock.index_lines import lock_index
from samepack.lock.indexes import IndexOptions
from samepack.lock.tool import uv_binary

FIXTURES = Path(__file__).parent / "fixtures"
REPO_FIXTURES = Path(__file__).parents[2] / "fixtures"
SECRET = "s3cret-Passw0rd"


def options_at_top(lock: str) -> list[str]:
    """The option lines of a lock, between its comment header and its first pin."""
    lines = []
    for line in lock.splitlines():
        if line.startswith("-"):
            lines.append(line)
        elif line and not line.startswith("#"):
            break
    return lines


def test_credentials_become_variables_and_are_masked_in_messages():
    url, names = without_credentials(f"https://alice:{SECRET}@pypi.corp.example:8443/simple")
    assert url == ("https://alice:${SAMEPACK_INDEX_PYPI_CORP_EXAMPLE_8443_PASSWORD}"
                   "@pypi.corp.example:8443/simple")
    assert names == ("SAMEPACK_INDEX_PYPI_CORP_EXAMPLE_8443_PASSWORD",)
    token, names = without_credentials("https://tok-123@pypi.fury.io/team/")
    assert token == "https://${SAMEPACK_INDEX_PYPI_FURY_IO_TOKEN}@pypi.fury.io/team/"
    written = "https://${CORP_USER}:${CORP_TOKEN}@pypi.corp.example/simple"
    assert without_credentials(written) == (written, ())  # already the variable form
    assert without_credentials("https://download.pytorch.org/whl/cpu")[1] == ()
    message = masked(f"error: Failed to fetch: `https://alice:{SECRET}@h/simple/x/` (401)")
    assert SECRET not in message and "https://alice:****@h/simple" in message


def test_local_folders_inside_the_project_are_relative_and_outside_ones_left_out(tmp_path):
    root = tmp_path / "project"
    (root / "vendor").mkdir(parents=True)
    outside = tmp_path / "wheels"
    inside = IndexOptions(find_links=(str(root / "vendor"), "vendor", (root / "vendor").as_uri()),
                          no_index=True)
    kept = lock_index(inside, root, "requirements.txt")
    assert kept.lines == ("--find-links vendor", "--no-index") and kept.notes == ()
    mixed = lock_index(IndexOptions(find_links=("vendor", str(outside)), no_index=True,
                                    extra_index_urls=("https://download.pytorch.org/whl/cpu",)),
                       root, "requirements.txt")
    assert mixed.lines == ("--extra-index-url https://download.pytorch.org/whl/cpu",
                           "--find-links vendor")  # without --no-index: the lock alone lacks
    assert len(mixed.notes) == 1 and str(outside) in mixed.notes[0]  # a place it came from
    assert "--no-index is left out" in mixed.notes[0]


def copy(name: str, target: Path) -> Path:
    root = target / name
    shutil.copytree(FIXTURES / name, root)
    return root


def test_llama_cpp_lock_names_pytorchs_cpu_index_and_check_sees_it_change(samepack, tmp_path):
    """llama.cpp's convert requirements (`--extra-index-url .../whl/cpu` and the nightly index
    behind a marker): both head the lock, byte-identical on a second run; an index the project
    adds later is drift."""
    from test_real_projects import LLAMA_DISTS, local_wheels

    root = copy("real-extra-index", tmp_path)
    wheels = tmp_path / "wheels"
    offline = local_wheels(LLAMA_DISTS, wheels)
    result = samepack("package-env", root, *offline)
    assert result.exit_code == 0, result.stderr
    lock = (root / "requirements.txt").read_text()
    assert options_at_top(lock) == ["--extra-index-url https://download.pytorch.org/whl/cpu",
                                    "--extra-index-url https://download.pytorch.org/whl/nightly"]
    assert str(wheels) not in lock and str(wheels) in result.stderr  # this machine's folder
    assert "torch==2.11.0+cpu" in lock
    again = samepack("package-env", root, *offline)
    assert again.exit_code == 0 and (root / "requirements.txt").read_text() == lock
    assert samepack("package-env", root, "--check").exit_code == 0
    included = root / "requirements" / "requirements-convert_legacy_llama.txt"
    included.write_text("--extra-index-url https://mirror.example/simple\n"
                        + included.read_text())
    drifted = samepack("package-env", root, "--check")
    assert drifted.exit_code == 10
    assert "+ index: --extra-index-url https://mirror.example/simple" in drifted.stdout


def test_pytorch_cuda_lock_names_the_cuda_index(samepack, tmp_path, offline):
    root = tmp_path / "pytorch-cuda"
    shutil.copytree(REPO_FIXTURES / "pytorch-cuda", root)
    result = samepack("package-env", root, *offline)
    assert result.exit_code == 0, result.stderr
    lock = (root / "requirements.txt").read_text()
    assert options_at_top(lock) == ["--extra-index-url https://download.pytorch.org/whl/cu121"]
    assert "torch==2.3.1+cu121" in lock


def _private_project(tmp_path: Path, wheel_dir: Path, index_line: str) -> tuple[Path, Path]:
    """A project needing ``special`` (only on the private index, needing ``alpha`` from the
    main one) and ``inhouse`` (only in its own vendor/ folder)."""
    private = tmp_path / "private-wheels"
    private.mkdir()
    special = build_wheel(FakeDist("special", "3.0", requires=("alpha",)), private)
    root = tmp_path / "project"
    (root / "vendor").mkdir(parents=True)
    build_wheel(FakeDist("inhouse", "1.2"), root / "vendor")
    (root / "requirements.txt").write_text(f"{index_line}\n--find-links ./vendor\n"
                                           "special\ninhouse\n")
    (root / "train.py").write_text("import special, inhouse\n")
    return root, special


def _venv(path: Path, pip: bool = False) -> Path:
    if pip:  # the standard library's venv with its bundled pip: no download
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    else:
        subprocess.run([uv_binary(), "venv", str(path), "--python", sys.executable, "--quiet",
                        "--no-config"], check=True)
    return path / "bin" / "python"


def test_plain_uv_sync_and_pip_install_of_the_lock_work_with_no_secret_in_it(
        samepack, tmp_path, wheel_dir, monkeypatch):
    main_wheels = sorted(wheel_dir.glob("*.whl"))
    root, special = _private_project(tmp_path, wheel_dir, "")
    with serve_indexes({"main": main_wheels, "private": [special]},
                       {"private": ("alice", SECRET)}) as server:
        port = server.rsplit(":", 1)[1]
        variable = f"SAMEPACK_INDEX_127_0_0_1_{port}_PASSWORD"
        (root / "requirements.txt").write_text(
            f"--extra-index-url http://alice:{SECRET}@127.0.0.1:{port}/private/\n"
            + (root / "requirements.txt").read_text().lstrip("\n"))
        result = samepack("package-env", root, "--index-url", f"{server}/main/")
        assert result.exit_code == 0, result.stderr
        lock_path = root / "requirements.lock"
        lock = lock_path.read_text()
        assert options_at_top(lock) == [
            f"--index-url {server}/main/",
            f"--extra-index-url http://alice:${{{variable}}}@127.0.0.1:{port}/private/",
            "--find-links vendor"]
        assert "special==3.0" in lock and "inhouse==1.2" in lock and "alpha==2.0" in lock
        for written in (lock, (root / ".samepack" / "env.json").read_text(), result.stderr,
                        result.stdout):
            assert SECRET not in written
        assert variable in result.stderr  # the warning names what to set

        # a colleague with only the lock and the project's vendor/ folder, nothing else
        elsewhere = tmp_path / "colleague"
        elsewhere.mkdir()
        shutil.copy(lock_path, elsewhere / "requirements.lock")
        shutil.copytree(root / "vendor", elsewhere / "vendor")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_"))}
        env.update(PIP_CONFIG_FILE="/dev/null", UV_NO_CONFIG="1")
        python = _venv(tmp_path / "uv-env")
        sync = [uv_binary(), "pip", "sync", "requirements.lock", "--require-hashes", "--python",
                str(python), "--no-cache"]
        refused = subprocess.run(sync, cwd=elsewhere, env=env, capture_output=True, text=True)
        assert refused.returncode != 0  # the private index needs the password...
        synced = subprocess.run(sync, cwd=elsewhere, env={**env, variable: SECRET},
                                capture_output=True, text=True)  # ...from the variable
        assert synced.returncode == 0, synced.stderr
        assert _imports(python, "special, inhouse, alpha")
        pip_python = _venv(tmp_path / "pip-env", pip=True)
        installed = subprocess.run(
            [str(pip_python), "-m", "pip", "install", "--require-hashes", "--no-cache-dir",
             "--disable-pip-version-check", "-r", str(elsewhere / "requirements.lock")],
            cwd=tmp_path, env={**env, variable: SECRET}, capture_output=True, text=True)
        assert installed.returncode == 0, installed.stderr
        assert _imports(pip_python, "special, inhouse, alpha")

        # samepack's own env create, from the record, with the variable set
        monkeypatch.setenv(variable, SECRET)
        created = samepack("env", "create", root, "--prefix", tmp_path / "env")
        assert created.exit_code == 0, created.stderr
        assert _imports(Path(created.stdout.strip()), "special, inhouse")


def test_a_variable_the_project_writes_is_kept_as_written_and_used_to_lock(
        samepack, tmp_path, wheel_dir, monkeypatch):
    root, special = _private_project(tmp_path, wheel_dir, "")
    with serve_indexes({"main": sorted(wheel_dir.glob("*.whl")), "private": [special]},
                       {"private": ("alice", SECRET)}) as server:
        written = f"--extra-index-url http://alice:${{CORP_TOKEN}}@{server[7:]}/private/"
        (root / "requirements.txt").write_text(
            written + "\n" + (root / "requirements.txt").read_text().lstrip("\n"))
        monkeypatch.setenv("CORP_TOKEN", SECRET)
        result = samepack("package-env", root, "--index-url", f"{server}/main/")
        assert result.exit_code == 0, result.stderr
        lock = (root / "requirements.lock").read_text()
        assert written in options_at_top(lock) and SECRET not in lock
        assert "carries credentials" not in result.stderr
        record = json.loads((root / ".samepack" / "env.json").read_text())
        assert record["index"]["project"]["extra_index_urls"] == [written.split(" ", 1)[1]]


def _imports(python: Path, modules: str) -> bool:
    done = subprocess.run([str(python), "-c", f"import {modules}"], capture_output=True, text=True)
    return done.returncode == 0


def _command_lines_seen(stop: threading.Event, seen: list[str]) -> None:
    """Every process command line on this machine, read from /proc until ``stop``."""
    while not stop.is_set():
        for entry in Path("/proc").iterdir():
            try:
                seen.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except (OSError, UnicodeDecodeError):
                continue


@pytest.mark.parametrize("locker", ["uv", "pip-tools"])
def test_a_credential_used_to_lock_is_on_no_command_line(samepack, tmp_path, wheel_dir,
                                                         monkeypatch, locker):
    """uv gets an index URL that carries a credential through its environment: any user of the
    machine reads command lines from /proc while the lock runs."""
    root, _ = _private_project(tmp_path, wheel_dir, "")
    private = sorted((tmp_path / "private-wheels").glob("*.whl"))
    with serve_indexes({"main": sorted(wheel_dir.glob("*.whl")), "private": private},
                       {"private": ("alice", SECRET)}) as server:
        (root / "requirements.txt").write_text(
            f"--extra-index-url http://alice:${{CORP_TOKEN}}@{server[7:]}/private/\n"
            + (root / "requirements.txt").read_text().lstrip("\n"))
        monkeypatch.setenv("CORP_TOKEN", SECRET)
        stop, seen = threading.Event(), []
        watcher = threading.Thread(target=_command_lines_seen, args=(stop, seen), daemon=True)
        watcher.start()
        try:
            result = samepack("package-env", root, "--index-url", f"{server}/main/",
                              "--locker", locker)
        finally:
            stop.set()
            watcher.join()
        assert result.exit_code == 0, result.stderr
    assert any(("pip compile" if locker == "uv" else "piptools compile") in line
               for line in seen)  # the tool was seen running
    assert not [line for line in seen if SECRET in line]
