"""Index options the project declares (requirement-file lines, ``[[tool.uv.index]]``) reach the
lock and, through the record, ``env create``. The indexes are real: a find-links directory and
a PEP 503 simple index served from ``file://``."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from lockbuilders import FakeDist, build_wheel

from samepack.envfiles.indexes import declared_index


def simple_index(wheels: list[Path], target: Path) -> str:
    """A PEP 503 index of ``wheels`` under ``target``; its ``file://`` URL."""
    by_name: dict[str, list[Path]] = {}
    for wheel in wheels:
        by_name.setdefault(wheel.name.split("-")[0].replace("_", "-").lower(), []).append(wheel)
    for name, files in by_name.items():
        folder = target / name
        folder.mkdir(parents=True)
        links = "".join(
            f'<a href="{w.as_uri()}#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}">{w.name}</a>\n'
            for w in files)
        (folder / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
    (target / "index.html").write_text("".join(f'<a href="{n}/">{n}</a>\n' for n in by_name))
    return target.as_uri()


def test_requirement_file_and_pyproject_index_options_are_read(tmp_path):
    (tmp_path / "requirements.txt").write_text(
        "# CUDA wheels\n--extra-index-url https://download.pytorch.org/whl/cu121\n"
        "-f ./vendor  # local builds\n-r more.txt\ntorch==2.3.1+cu121\n")
    (tmp_path / "more.txt").write_text("--index-url=https://mirror.example/simple\n")
    pyproject = {"tool": {"uv": {"index": [
        {"name": "pytorch-cpu", "url": "https://download.pytorch.org/whl/cpu"},
        {"name": "local", "url": "./wheels", "format": "flat"}]}}}
    found = declared_index(tmp_path, ["requirements.txt"], pyproject)
    assert found.extra_index_urls == ("https://download.pytorch.org/whl/cu121",
                                      "https://download.pytorch.org/whl/cpu")
    assert found.index_url == "https://mirror.example/simple"
    assert found.find_links == ("vendor", "./wheels")


def test_find_links_in_requirements_reach_the_lock_and_env_create(samepack, tmp_path, offline):
    root = tmp_path / "project"
    (root / "vendor").mkdir(parents=True)
    build_wheel(FakeDist("inhouse", "1.2"), root / "vendor")
    (root / "requirements.txt").write_text("--find-links vendor\ninhouse\nalpha\n")
    (root / "train.py").write_text("import inhouse, alpha\n")
    result = samepack("package-env", root, *offline)
    assert result.exit_code == 0, result.stderr
    assert "inhouse==1.2" in (root / "requirements.lock").read_text()
    record = json.loads((root / ".samepack" / "env.json").read_text())
    assert record["index"]["project"]["find_links"] == ["vendor"]  # relative: portable
    created = samepack("env", "create", root, "--prefix", tmp_path / "env", *offline)
    assert created.exit_code == 0, created.stderr
    done = subprocess.run([created.stdout.strip(), "-c", "import inhouse, alpha"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_uv_index_in_pyproject_is_searched_besides_the_main_index(samepack, tmp_path,
                                                                    wheel_dir):
    extra_wheels = tmp_path / "extra-wheels"
    extra_wheels.mkdir()
    special = build_wheel(FakeDist("special", "3.0", requires=("alpha",)), extra_wheels)
    main = simple_index(sorted(wheel_dir.glob("*.whl")), tmp_path / "main")
    extra = simple_index([special], tmp_path / "extra")
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\ndependencies = ["special"]\n\n'
        f'[[tool.uv.index]]\nname = "ours"\nurl = "{extra}"\n')
    result = samepack("package-env", root, "--index-url", main)
    assert result.exit_code == 0, result.stderr
    lock = (root / "requirements.txt").read_text()
    assert "special==3.0" in lock and "alpha==2.0" in lock
    created = samepack("env", "create", root, "--prefix", tmp_path / "env", "--index-url", main,
                       "--json")
    assert created.exit_code == 0, created.stderr
    made = json.loads(created.stdout)
    assert made["prefix"] == str(tmp_path / "env") and Path(made["python"]).is_file()


def test_an_index_that_cannot_be_reached_is_one_line_naming_it(samepack, tmp_path, wheel_dir,
                                                                monkeypatch):
    import socket

    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    main = simple_index(sorted(wheel_dir.glob("*.whl")), tmp_path / "main")
    root = tmp_path / "project"
    root.mkdir()
    (root / "requirements.txt").write_text(
        f"--extra-index-url http://127.0.0.1:{closed}/whl/cu121\nalpha\n")
    before = sorted(p.name for p in root.iterdir())
    result = samepack("package-env", root, "--index-url", main)
    assert result.exit_code == 8, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: ") and f"http://127.0.0.1:{closed}/whl/cu121" in first
    assert "could not be reached" in first and "Traceback" not in result.stderr
    assert "--find-links DIR --no-index" in result.stderr
    assert sorted(p.name for p in root.iterdir()) == before  # nothing written


def test_pytorch_build_follows_the_scan_unless_an_index_was_chosen():
    from samepack.envfiles.accelerators import accelerator_index
    from samepack.envfiles.requirements_in import DirectRequirement
    from samepack.lock.indexes import IndexOptions

    torch = [DirectRequirement("torch>=2.3", "torch", ("train.py:1",))]
    none = IndexOptions()
    cpu, why = accelerator_index(torch, {"gpu": False}, none, none)
    assert cpu.extra_index_urls == ("https://download.pytorch.org/whl/cpu",) and "CPU" in why
    cuda, why = accelerator_index(torch, {"gpu": True, "cuda": "12.1"}, none, none)
    assert cuda.extra_index_urls == ("https://download.pytorch.org/whl/cu121",)
    assert accelerator_index(torch, {"gpu": True, "cuda": None}, none, none) == (none, None)
    mirror = IndexOptions(index_url="https://mirror.example/simple")
    assert accelerator_index(torch, {"gpu": False}, mirror, none) == (none, None)  # user's choice
    assert accelerator_index(torch, {"gpu": False}, none, mirror) == (none, None)  # project's
    offline = IndexOptions(find_links=("/wheels",), no_index=True)
    assert accelerator_index(torch, {"gpu": False}, offline, none) == (none, None)
    more = IndexOptions(find_links=("/wheels",))  # only adds a place to look
    assert accelerator_index(torch, {"gpu": False}, more, none)[0] == cpu
    pinned = [DirectRequirement("torch==2.3.1+cu121", "torch", ())]
    assert accelerator_index(pinned, {"gpu": False}, none, none) == (none, None)
    numpy = [DirectRequirement("numpy", "numpy", ())]
    assert accelerator_index(numpy, {"gpu": False}, none, none) == (none, None)
