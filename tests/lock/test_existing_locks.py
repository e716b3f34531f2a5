"""Lock files a project already has (real ones, written by uv, poetry, pipenv and the PEP 751
example) are read as pins; package-env keeps those versions until --upgrade or
--upgrade-package lets them move. The resolver is real uv against a local wheel directory that
holds the locked versions and newer ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lockbuilders import FakeDist, build_wheel

from samepack.errors import InputError
from samepack.lock.existing import existing_pins

FIXTURES = Path(__file__).parent / "fixtures" / "existing-locks"


def test_each_lock_format_gives_its_runtime_pins():
    uv = existing_pins(FIXTURES / "uv").pins
    assert uv["fastapi"] == "0.118.0" and uv["starlette"] == "0.48.0"
    assert "uv-docker-example" not in uv  # the project itself (editable) is no pin
    poetry = existing_pins(FIXTURES / "poetry").pins
    assert poetry["requests"] == "2.25.1" and poetry["docker"] == "4.3.1"
    pipenv = existing_pins(FIXTURES / "pipenv").pins
    assert pipenv == {"certifi": "2026.2.25", "charset-normalizer": "3.4.6", "idna": "3.15",
                      "requests": "2.33.0", "urllib3": "2.7.0"}  # not the develop section
    pylock = existing_pins(FIXTURES / "pylock").pins
    assert pylock == {"attrs": "25.1.0", "cattrs": "24.1.2", "numpy": "2.2.3"}


def test_a_package_locked_at_several_versions_is_left_to_the_resolver(tmp_path):
    (tmp_path / "uv.lock").write_text(
        'version = 1\n[[package]]\nname = "numpy"\nversion = "1.26.4"\n'
        'resolution-markers = ["python_full_version < \'3.10\'"]\n'
        '[[package]]\nname = "numpy"\nversion = "2.1.0"\n'
        '[[package]]\nname = "Tqdm"\nversion = "4.66.4"\n')
    assert existing_pins(tmp_path).pins == {"tqdm": "4.66.4"}


def test_a_broken_lock_file_is_a_one_line_input_error(tmp_path):
    (tmp_path / "poetry.lock").write_text("[[package]\nname = 'x'\n")
    with pytest.raises(InputError) as raised:
        existing_pins(tmp_path)
    assert raised.value.message.startswith("poetry.lock: not valid TOML")
    assert "move it aside" in raised.value.hint


def test_a_broken_conda_lock_is_one_line_naming_its_line(tmp_path):
    (tmp_path / "conda-lock.yml").write_text("package: [\n")
    with pytest.raises(InputError) as raised:
        existing_pins(tmp_path)
    assert raised.value.message.startswith("conda-lock.yml: not valid YAML (line 2: ")
    assert "\n" not in raised.value.message


@pytest.fixture
def pipenv_wheels(tmp_path_factory) -> Path:
    """The versions pipenv's example Pipfile.lock pins, and a newer release of each."""
    target = tmp_path_factory.mktemp("pipenv-wheels")
    locked = json.loads((FIXTURES / "pipenv" / "Pipfile.lock").read_text())["default"]
    for name, entry in locked.items():
        version = entry["version"].removeprefix("==")
        newer = version.split(".")
        newer[-1] = str(int(newer[-1]) + 1)
        for release in (version, ".".join(newer)):
            build_wheel(FakeDist(name, release), target)
    return target


def test_pipfile_lock_versions_are_kept_until_upgrade(samepack, tmp_path, pipenv_wheels):
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "pipenv", root)
    (root / "client.py").write_text("import requests\n")
    offline = ("--find-links", str(pipenv_wheels), "--no-index")
    first = samepack("package-env", root, *offline)
    assert first.exit_code == 0, first.stderr
    assert "kept the versions of 5 packages" in first.stderr
    lock = (root / "requirements.txt").read_text()
    for pin in ("requests==2.33.0", "urllib3==2.7.0", "certifi==2026.2.25", "idna==3.15",
                "charset-normalizer==3.4.6"):
        assert pin in lock, pin
    assert "pytest" not in lock  # a dev-packages entry is not part of the environment
    one = samepack("package-env", root, *offline, "--upgrade-package", "requests")
    assert one.exit_code == 0, one.stderr
    lock = (root / "requirements.txt").read_text()
    assert "requests==2.33.1" in lock and "urllib3==2.7.0" in lock
    every = samepack("package-env", root, *offline, "--upgrade")
    assert every.exit_code == 0, every.stderr
    lock = (root / "requirements.txt").read_text()
    assert "urllib3==2.7.1" in lock and "idna==3.16" in lock


def test_poetry_lock_versions_are_kept(samepack, tmp_path):
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "poetry", root)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for dist in (FakeDist("docker", "4.3.1", requires=("requests>=2.14.2", "six>=1.4.0")),
                 FakeDist("docker", "7.1.0", requires=("requests>=2.26", "urllib3>=1.26")),
                 FakeDist("requests", "2.25.1", requires=("idna>=2.5,<3",)),
                 FakeDist("requests", "2.32.3", requires=("idna>=2.5,<4",)),
                 FakeDist("idna", "2.10"), FakeDist("idna", "3.7"),
                 FakeDist("six", "1.15.0"), FakeDist("six", "1.16.0"),
                 FakeDist("urllib3", "1.26.3"), FakeDist("urllib3", "2.2.2")):
        build_wheel(dist, wheels)
    result = samepack("package-env", root, "--find-links", wheels, "--no-index")
    assert result.exit_code == 0, result.stderr
    lock = (root / "requirements.txt").read_text()
    for pin in ("docker==4.3.1", "requests==2.25.1", "idna==2.10", "six==1.15.0"):
        assert pin in lock, pin


def test_a_hashed_requirements_txt_is_a_lock_whose_pins_are_kept(samepack, tmp_path, wheel_dir,
                                                                offline):
    """A requirements.txt compiled with hashes by another tool: its pins stay (as pins, not as
    declared requirements), the file itself is kept, the lock goes beside it."""
    import hashlib

    root = tmp_path / "project"
    root.mkdir()
    (root / "train.py").write_text("import alpha\n")
    digest = hashlib.sha256((wheel_dir / "alpha-1.0-py3-none-any.whl").read_bytes()).hexdigest()
    compiled = f"alpha==1.0 \\\n    --hash=sha256:{digest}\n"
    (root / "requirements.txt").write_text(compiled)
    result = samepack("package-env", root, *offline)
    assert result.exit_code == 0, result.stderr
    assert (root / "requirements.txt").read_text() == compiled
    assert "alpha==1.0" in (root / "requirements.lock").read_text()
    upgraded = samepack("package-env", root, *offline, "--upgrade")
    assert upgraded.exit_code == 0, upgraded.stderr
    lock = (root / "requirements.lock").read_text()
    assert "alpha==2.0" in lock and "beta==2.1" in lock  # no declared alpha==1.0 held it back
    again = samepack("package-env", root, *offline)
    assert again.exit_code == 0, again.stderr
    assert (root / "requirements.lock").read_text() == lock  # samepack's last lock comes first


def test_uv_lock_versions_are_kept_until_that_package_is_upgraded(samepack, tmp_path):
    """astral-sh/uv-docker-example as published: its uv.lock pins fastapi 0.118.0 and
    starlette 0.48.0; newer releases of both are offered, and the lock keeps the pinned ones
    until --upgrade-package lets fastapi alone move."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "uv", root)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for dist in (FakeDist("fastapi", "0.118.0", requires=("starlette>=0.40,<0.49",)),
                 FakeDist("fastapi", "0.120.0", requires=("starlette>=0.40,<0.50",)),
                 FakeDist("starlette", "0.48.0"), FakeDist("starlette", "0.49.0")):
        build_wheel(dist, wheels)
    offline = ("--find-links", wheels, "--no-index")
    first = samepack("package-env", root, *offline)
    assert first.exit_code == 0, first.stderr
    assert "kept the versions of" in first.stderr
    lock = (root / "requirements.txt").read_text()
    assert "fastapi==0.118.0" in lock and "starlette==0.48.0" in lock
    assert (root / "uv.lock").read_text() == (FIXTURES / "uv" / "uv.lock").read_text()
    moved = samepack("package-env", root, *offline, "--upgrade-package", "fastapi")
    assert moved.exit_code == 0, moved.stderr
    lock = (root / "requirements.txt").read_text()
    assert "fastapi==0.120.0" in lock and "starlette==0.48.0" in lock


def test_pylock_toml_versions_are_kept(samepack, tmp_path):
    """The PEP 751 example pylock.toml (pypa/packaging's copy) beside code importing its
    packages: the lock keeps its versions although newer ones are offered."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "pylock", root)
    (root / "convert.py").write_text("import attrs\nimport cattrs\nimport numpy\n")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for dist in (FakeDist("attrs", "25.1.0"), FakeDist("attrs", "25.3.0"),
                 FakeDist("cattrs", "24.1.2", requires=("attrs>=23.1",)),
                 FakeDist("cattrs", "25.1.1", requires=("attrs>=24.3",)),
                 FakeDist("numpy", "2.2.3"), FakeDist("numpy", "2.3.1")):
        build_wheel(dist, wheels)
    result = samepack("package-env", root, "--find-links", wheels, "--no-index")
    assert result.exit_code == 0, result.stderr
    lock = (root / "requirements.txt").read_text()
    for pin in ("attrs==25.1.0", "cattrs==24.1.2", "numpy==2.2.3"):
        assert pin in lock, pin
    assert (root / "pylock.toml").read_text() == (FIXTURES / "pylock" / "pylock.toml").read_text()


def test_a_compiled_requirements_txt_without_hashes_is_a_lock(tmp_path):
    """pip-compile's and uv's outputs say so in their first lines; a hand-written list of the
    same pins is a declaration and gives no pins."""
    pins = "alpha==1.0\n    # via -r requirements.in\nbeta==2.0\n    # via alpha\n"
    (tmp_path / "requirements.txt").write_text(
        "# This file was autogenerated by uv via the following command:\n"
        "#    uv pip compile requirements.in -o requirements.txt\n" + pins)
    assert existing_pins(tmp_path).pins == {"alpha": "1.0", "beta": "2.0"}
    (tmp_path / "requirements.txt").write_text("# pinned by hand\n" + pins)
    assert existing_pins(tmp_path).pins == {}
