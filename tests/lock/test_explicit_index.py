"""An index with ``explicit = true`` serves only the packages ``[tool.uv.sources]`` pins to it.
The indexes are real (wheels over HTTP on 127.0.0.1) and both hold decoys: the explicit one a
newer ``alpha`` (a package nothing pins to it), the main one a newer ``special`` (the package
pinned to the explicit one). Neither decoy may be locked or installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from index_server import serve_indexes
from lockbuilders import FakeDist, build_wheel

from samepack.envfiles.indexes import declared_index
from samepack.lock.indexes import IndexPin
from samepack.lock.tool import uv_binary

SECRET = "Expl1cit-s3cret"


@pytest.fixture
def indexes(tmp_path: Path, wheel_dir: Path):
    """``server``: ``/main/`` (the test catalogue and a decoy ``special`` 99.0) and
    ``/ours/`` (``special`` 3.0 and a decoy ``alpha`` 9.0), the latter behind alice:SECRET."""
    ours, decoys = tmp_path / "ours", tmp_path / "decoys"
    ours.mkdir()
    decoys.mkdir()
    main = sorted(wheel_dir.glob("*.whl")) + [
        build_wheel(FakeDist("special", "99.0", modules=("decoy_special",)), decoys)]
    pinned = [build_wheel(FakeDist("special", "3.0", requires=("alpha",)), ours),
              build_wheel(FakeDist("alpha", "9.0", modules=("decoy_alpha",)), ours)]
    with serve_indexes({"main": main, "ours": pinned}, {"ours": ("alice", SECRET)}) as server:
        yield server


def _project(root: Path, server: str, locker: str = "") -> Path:
    root.mkdir()
    host = server[len("http://"):]
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\ndependencies = ["special", "alpha"]\n\n'
        + (f'[tool.samepack]\nlocker = "{locker}"\n\n' if locker else "")
        + '[tool.uv.sources]\nspecial = { index = "ours" }\n\n'
        f'[[tool.uv.index]]\nname = "ours"\nurl = "http://alice:{SECRET}@{host}/ours/"\n'
        'explicit = true\n')
    (root / "train.py").write_text("import special, alpha\n")
    return root


def test_a_package_pinned_to_an_explicit_index_comes_from_it_and_nothing_else_does(
        samepack, tmp_path, indexes, monkeypatch):
    server = indexes
    port = server.rsplit(":", 1)[1]
    variable = f"SAMEPACK_INDEX_127_0_0_1_{port}_PASSWORD"
    monkeypatch.delenv(variable, raising=False)
    root = _project(tmp_path / "project", server)
    locked = samepack("package-env", root, "--index-url", f"{server}/main/")
    assert locked.exit_code == 0, locked.stderr
    lock = (root / "requirements.txt").read_text()
    assert "special==3.0" in lock and "alpha==2.0" in lock  # neither decoy
    page = f"http://alice:${{{variable}}}@127.0.0.1:{port}/ours/special/"
    assert [line for line in lock.splitlines() if line.startswith("--")] == [
        f"--index-url {server}/main/", f"--find-links {page}"]  # not an extra index
    record = json.loads((root / ".samepack" / "env.json").read_text())
    assert record["index"]["project"]["pinned"] == [
        {"package": "special", "url": f"http://alice:${{{variable}}}@127.0.0.1:{port}/ours/",
         "marker": None}]
    assert "extra_index_urls" not in record["index"]["project"]
    for text in (lock, json.dumps(record), locked.stdout, locked.stderr):
        assert SECRET not in text
    assert samepack("package-env", root, "--check").exit_code == 0

    # this machine: the password comes from pyproject.toml
    created = samepack("env", "create", root, "--prefix", tmp_path / "env")
    assert created.exit_code == 0, created.stderr
    shown = subprocess.run([created.stdout.strip(), "-c",
                            "import special, alpha; print(special.__version__, alpha.__version__)"],
                           capture_output=True, text=True)
    assert shown.stdout.split() == ["3.0", "2.0"], shown.stderr

    # elsewhere, the lock alone with plain uv: the same files, the hashes choose them
    elsewhere = tmp_path / "colleague"
    elsewhere.mkdir()
    shutil.copy(root / "requirements.txt", elsewhere / "requirements.txt")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_"))}
    python = tmp_path / "uv-env" / "bin" / "python"
    subprocess.run([uv_binary(), "venv", str(python.parent.parent), "--python", sys.executable,
                    "--quiet", "--no-config"], check=True)
    synced = subprocess.run([uv_binary(), "pip", "sync", "requirements.txt", "--require-hashes",
                             "--python", str(python), "--no-cache", "--no-config"],
                            cwd=elsewhere, env={**env, variable: SECRET}, capture_output=True,
                            text=True)
    assert synced.returncode == 0, synced.stderr
    shown = subprocess.run([str(python), "-c", "import special, alpha; "
                            "print(special.__version__, alpha.__version__)"],
                           capture_output=True, text=True)
    assert shown.stdout.split() == ["3.0", "2.0"], shown.stderr


def test_pip_tools_refuses_a_package_pinned_to_an_explicit_index(samepack, tmp_path, indexes):
    root = _project(tmp_path / "project", indexes, locker="pip-tools")
    refused = samepack("package-env", root, "--index-url", f"{indexes}/main/")
    assert refused.exit_code == 3, refused.stderr
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "pins special to an explicit index" in errors[0]
    assert "--locker uv" in refused.stderr and SECRET not in refused.stderr
    assert not (root / "requirements.txt").exists()


def test_sources_name_explicit_indexes_with_markers_and_other_indexes_stay_extra(tmp_path):
    pyproject = {"tool": {"uv": {
        "index": [{"name": "cu", "url": "https://download.pytorch.org/whl/cu121", "explicit": True},
                  {"name": "cpu", "url": "https://download.pytorch.org/whl/cpu", "explicit": True},
                  {"name": "unused", "url": "https://unused.example/simple", "explicit": True},
                  {"name": "mirror", "url": "https://mirror.example/simple"}],
        "sources": {"torch": [{"index": "cu", "marker": "sys_platform == 'linux'"},
                              {"index": "cpu", "marker": "sys_platform == 'darwin'"}],
                    "Torch_Vision": {"index": "cpu"}, "mine": {"path": "./mine"}}}}}
    found = declared_index(tmp_path, [], pyproject)
    assert found.extra_index_urls == ("https://mirror.example/simple",)
    assert found.pinned == (
        IndexPin("torch", "https://download.pytorch.org/whl/cu121", "sys_platform == 'linux'"),
        IndexPin("torch", "https://download.pytorch.org/whl/cpu", "sys_platform == 'darwin'"),
        IndexPin("Torch_Vision", "https://download.pytorch.org/whl/cpu"))
    assert found.pinned[2].page() == "https://download.pytorch.org/whl/cpu/torch-vision/"


def test_sources_with_markers_take_the_index_of_the_target_platform(samepack, tmp_path,
                                                                    wheel_dir):
    ours, mac = tmp_path / "ours", tmp_path / "mac"
    ours.mkdir()
    mac.mkdir()
    with serve_indexes({"main": sorted(wheel_dir.glob("*.whl")),
                        "ours": [build_wheel(FakeDist("special", "3.0"), ours)],
                        "mac": [build_wheel(FakeDist("special", "4.0"), mac)]}, {}) as server:
        root = tmp_path / "project"
        root.mkdir()
        (root / "pyproject.toml").write_text(
            '[project]\nname = "demo"\nversion = "1"\ndependencies = ["special"]\n\n'
            '[tool.uv.sources]\nspecial = [\n'
            '    { index = "ours", marker = "sys_platform == \'linux\'" },\n'
            '    { index = "mac", marker = "sys_platform == \'darwin\'" },\n]\n\n'
            f'[[tool.uv.index]]\nname = "ours"\nurl = "{server}/ours/"\nexplicit = true\n\n'
            f'[[tool.uv.index]]\nname = "mac"\nurl = "{server}/mac/"\nexplicit = true\n')
        (root / "train.py").write_text("import special\n")
        locked = samepack("package-env", root, "--index-url", f"{server}/main/",
                          "--platform", "linux-64")
        assert locked.exit_code == 0, locked.stderr
        lock = (root / "requirements.txt").read_text()
        assert "special==3.0" in lock and "special==4.0" not in lock
        assert [line for line in lock.splitlines() if line.startswith("--find-links")] == [
            f"--find-links {server}/ours/special/", f"--find-links {server}/mac/special/"]
        mac_lock = samepack("package-env", root, "--index-url", f"{server}/main/",
                            "--platform", "osx-arm64", "--force")
        assert mac_lock.exit_code == 0, mac_lock.stderr
        assert "special==4.0" in (root / "requirements.txt").read_text()
