"""package-env on conda files real projects publish (tests/lock/fixtures/real-conda-*, each
folder's README.md names its origin): an environment.yml naming conda-forge, one naming no
channel at all, and conda-lock's own test project with its committed conda-lock.yml.

conda-forge is not reachable from every machine, so each project is run twice over: once with
a proxy that refuses every connection (``HTTPS_PROXY`` on a closed port of 127.0.0.1: the
channel the file names is what the one-line error must name, on any machine), and once
against a local channel of small packages carrying the names and versions the files name,
given with ``--channel`` as a mirror would be."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

from lockbuilders import FakeCondaPackage, FakeDist, channel_of, copy_fixture, wheels_of

from conda_lock.lockfile import parse_conda_lock_file

from samepack.lock.pins import pins_from_requirements

CONDA_FORGE = "https://conda.anaconda.org/conda-forge"


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def refusing_proxy() -> dict[str, str]:
    """Environment sending every HTTPS request to a port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{probe.getsockname()[1]}"
    return {"HTTPS_PROXY": proxy, "https_proxy": proxy, "NO_PROXY": "", "no_proxy": "",
            "UV_HTTP_RETRIES": "0"}


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith("error: "), done.stderr
    return first


def conda_packages(lock: Path) -> dict[tuple[str, str], str]:
    """``(platform, name) -> version`` of a conda-lock file's conda packages."""
    return {(p.platform, p.name): p.version for p in parse_conda_lock_file(lock).package
            if p.manager == "conda"}


# binder-examples/conda: python=3.11 and nine packages from conda-forge.
BINDER_CONDA_NAMES = ("numpy", "psutil", "toolz", "matplotlib", "dill", "pandas", "partd",
                      "bokeh", "dask")



def _conda_forge_refused(samepack_proc, root: Path):
    """``package-env --locker conda-lock`` of ``root`` with every HTTPS connection refused: one
    line naming conda-forge, the channel the file names or implies, exit code 8."""
    done = samepack_proc("package-env", root, "--locker", "conda-lock", env=refusing_proxy(),
                         timeout=120)
    assert done.returncode == 8, done.stderr
    assert one_line_error(done).startswith(f"error: conda channel {CONDA_FORGE} could not be "
                                           "reached: ")
    return done

def test_a_channel_named_in_environment_yml_is_the_one_asked(samepack_proc, tmp_path):
    """binder-examples/conda names conda-forge: with no way out, the conda locker fails in one
    line naming conda-forge's URL, and writes nothing."""
    root = copy_fixture("real-conda-channel", tmp_path)
    before = files_of(root)
    done = _conda_forge_refused(samepack_proc, root)
    assert "--channel URL" in done.stderr
    assert files_of(root) == before


def test_a_project_on_conda_forge_locks_its_pypi_equivalents_when_it_cannot_be_reached(
        samepack_proc, tmp_path):
    root = copy_fixture("real-conda-channel", tmp_path)
    before = files_of(root)
    offline = wheels_of([FakeDist(name, "1.0") for name in BINDER_CONDA_NAMES], tmp_path / "w")
    done = samepack_proc("package-env", root, *offline, env=refusing_proxy(), timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"no conda channel could be reached (conda channel {CONDA_FORGE}" in done.stderr
    assert "translated " + ", ".join(BINDER_CONDA_NAMES) in done.stderr
    locked = {p.name: p.version for p in
              pins_from_requirements((root / "requirements.txt").read_text())}
    assert locked == dict.fromkeys(BINDER_CONDA_NAMES, "1.0")
    record = json.loads((root / ".samepack" / "env.json").read_text())
    assert (record["locker"], record["python"]) == ("uv", "3.11")  # python=3.11 kept its say
    assert {k: v for k, v in files_of(root).items() if k in before} == before


def test_a_project_on_conda_forge_locks_against_a_mirror_and_env_create_installs_it(
        samepack, tmp_path):
    root = copy_fixture("real-conda-channel", tmp_path)
    environment = (root / "environment.yml").read_bytes()
    mirror = channel_of([
        FakeCondaPackage("python", "3.11.9", subdir="linux-64"),
        FakeCondaPackage("python", "3.12.4", subdir="linux-64"),
        FakeCondaPackage("numpy", "1.26.4", depends=("python >=3.9",), subdir="linux-64"),
        FakeCondaPackage("pandas", "2.2.2", depends=("numpy >=1.22", "python-dateutil"),
                         subdir="linux-64"),
        FakeCondaPackage("python-dateutil", "2.9.0"),
        FakeCondaPackage("toolz", "0.12.1"), FakeCondaPackage("partd", "1.4.2",
                                                              depends=("toolz",)),
        FakeCondaPackage("dask", "2024.8.0", depends=("toolz >=0.10", "partd >=1.4")),
        *(FakeCondaPackage(name, "1.0") for name in ("psutil", "matplotlib", "dill", "bokeh")),
    ], tmp_path / "conda-forge")
    result = samepack("package-env", root, "--channel", mirror)
    assert result.exit_code == 0, result.stderr
    solved = conda_packages(root / "conda-lock.yml")
    assert solved[("linux-64", "python")] == "3.11.9"  # python=3.11, not the newer 3.12
    assert {name for _, name in solved} >= {*BINDER_CONDA_NAMES, "python-dateutil"}
    assert (root / "environment.yml").read_bytes() == environment
    assert samepack("package-env", root, "--check").exit_code == 0
    created = samepack("env", "create", root, "--prefix", tmp_path / "env")
    assert created.exit_code == 0, created.stderr
    installed = sorted(p.name.rsplit("-", 2)[0] for p in (tmp_path / "env" / "conda-meta").glob("*.json"))
    assert set(BINDER_CONDA_NAMES) <= set(installed)


# binder-examples/bokeh: no channels:, bokeh/pandas/scipy/pip and a pip: section.
def test_an_environment_yml_without_channels_is_solved_against_conda_forge(samepack_proc,
                                                                          tmp_path):
    root = copy_fixture("real-conda-no-channels", tmp_path)
    before = files_of(root)
    done = _conda_forge_refused(samepack_proc, root)
    assert files_of(root) == before
    offline = wheels_of([FakeDist("bokeh", "3.4.1"), FakeDist("pandas", "2.2.2"),
                         FakeDist("scipy", "1.13.0"),
                         FakeDist("jupyter-server-proxy", "4.3.0")], tmp_path / "w")
    done = samepack_proc("package-env", root, *offline, env=refusing_proxy(), timeout=300)
    assert done.returncode == 0, done.stderr
    assert ("environment.yml names no channels: solving against conda-forge (add channels: to "
            "choose others)") in done.stderr
    assert "translated bokeh, pandas, scipy" in done.stderr
    lock = (root / "requirements.txt").read_text()
    for pin in ("bokeh==3.4.1", "pandas==2.2.2", "scipy==1.13.0", "jupyter-server-proxy==4.3.0"):
        assert pin in lock, pin
    assert {k: v for k, v in files_of(root).items() if k in before} == before


# conda-lock's tests/test-install-with-pip-deps: idna from conda-forge, requests from PyPI,
# for linux-64 and linux-aarch64, and the conda-lock.yml conda-lock wrote for it.
CONDA_LOCK_CHANNEL = [
    *(FakeCondaPackage("python", version, subdir=subdir)
      for version in ("3.12.0", "3.13.0") for subdir in ("linux-64", "linux-aarch64")),
    FakeCondaPackage("idna", "3.4", depends=("python >=3.6",)),
    FakeCondaPackage("idna", "3.7", depends=("python >=3.6",)),
]
CONDA_LOCK_WHEELS = [
    FakeDist("requests", "2.31.0", requires=("charset-normalizer<4,>=2", "idna<4,>=2.5",
                                             "urllib3<3,>=1.21.1", "certifi>=2017.4.17")),
    FakeDist("requests", "2.32.3", requires=("charset-normalizer<4,>=2", "idna<4,>=2.5",
                                             "urllib3<3,>=1.21.1", "certifi>=2017.4.17")),
    FakeDist("charset-normalizer", "3.3.2"), FakeDist("charset-normalizer", "3.4.0"),
    FakeDist("urllib3", "2.0.7"), FakeDist("urllib3", "2.2.3"),
    FakeDist("certifi", "2023.7.22"), FakeDist("certifi", "2024.8.30"),
    FakeDist("idna", "3.4"), FakeDist("idna", "3.7"),
]


def test_conda_locks_own_lock_file_is_kept_and_its_versions_steer_samepacks(samepack,
                                                                           tmp_path):
    """Its conda-lock.yml is left byte for byte; samepack's lock goes beside it, covers the two
    platforms environment.yml declares, and keeps the versions conda-lock chose, conda and
    pip alike, though newer ones are on offer, until --upgrade-package moves one."""
    root = copy_fixture("real-conda-lock", tmp_path)
    theirs = files_of(root)
    mirror = channel_of(CONDA_LOCK_CHANNEL, tmp_path / "conda-forge")
    offline = wheels_of(CONDA_LOCK_WHEELS, tmp_path / "w")
    result = samepack("package-env", root, "--channel", mirror, *offline)
    assert result.exit_code == 0, result.stderr
    assert {k: v for k, v in files_of(root).items() if k in theirs} == theirs
    ours = conda_packages(root / "conda-lock.samepack.yml")
    for platform in ("linux-64", "linux-aarch64"):
        assert ours[(platform, "idna")] == "3.4" and ours[(platform, "python")] == "3.12.0"
    pip = {p.name: p.version for p in
           pins_from_requirements((root / "requirements.txt").read_text())}
    assert {name: pip.get(name) for name in ("requests", "urllib3", "certifi",
                                             "charset-normalizer")} == {
        "requests": "2.31.0", "urllib3": "2.0.7", "certifi": "2023.7.22",
        "charset-normalizer": "3.3.2"}
    # requests needs idna, which conda installs: left to conda, as conda-lock's own file does
    assert "idna" not in pip
    assert not any(p.manager == "pip" and p.name == "idna" for p in
                   parse_conda_lock_file(root / "conda-lock.yml").package)
    record = json.loads((root / ".samepack" / "env.json").read_text())
    assert record["platforms"] == ["linux-64", "linux-aarch64"]
    assert "conda-lock.samepack.yml" in record["files"] and "conda-lock.yml" not in record["files"]
    assert samepack("package-env", root, "--check").exit_code == 0

    moved = samepack("package-env", root, "--channel", mirror, *offline,
                     "--upgrade-package", "idna")
    assert moved.exit_code == 0, moved.stderr
    ours = conda_packages(root / "conda-lock.samepack.yml")
    assert ours[("linux-64", "idna")] == "3.7" and ours[("linux-64", "python")] == "3.12.0"
    assert {k: v for k, v in files_of(root).items() if k in theirs} == theirs


def test_a_platform_samepack_cannot_lock_for_is_one_line_naming_the_file(samepack, tmp_path):
    root = copy_fixture("real-conda-lock", tmp_path)
    text = (root / "environment.yml").read_text().replace("- linux-aarch64", "- linux-ppc64le")
    (root / "environment.yml").write_text(text)
    before = files_of(root)
    result = samepack("package-env", root, "--locker", "conda-lock")
    assert result.exit_code == 3, result.stderr
    assert result.stderr.splitlines()[0] == ("error: environment.yml: platforms: linux-ppc64le is "
                                            "not a platform samepack can lock for")
    assert "--platform" in result.stderr and files_of(root) == before
