"""A conda environment's ``pip:`` part is locked against the conda solution and installed beside
it: real rattler solves against local channels, real ``uv pip compile``, real env creates whose
conda ``python`` is a working interpreter (this machine's, linked into the prefix) and whose
conda Python packages carry their ``.dist-info`` as conda-forge's do."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from lockbuilders import (FakeDist, channel_of, copy_fixture, conda_python, conda_python_dist,
                          wheels_of)

from samepack.lock.conda_python import (PLATFORM_MARKERS, CondaPackage, CondaProvided,
                                        python_distributions)
from samepack.lock.platforms import UV_PLATFORMS
from samepack.lock.pins import pins_from_requirements

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
SITE = f"lib/python{PYTHON}/site-packages"


def pip_pins(root: Path, name: str = "requirements.txt") -> dict[str, str]:
    return {p.name: p.version for p in pins_from_requirements((root / name).read_text())}


def conda_versions(lock: Path) -> dict[str, str]:
    from conda_lock.lockfile import parse_conda_lock_file

    return {p.name: p.version for p in parse_conda_lock_file(lock).package
            if p.manager == "conda"}


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".samepack/env/" not in p.as_posix()}


def run_in(prefix: Path, code: str) -> str:
    done = subprocess.run([str(prefix / "bin" / "python"), "-c", code], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def conda_record(prefix: Path, name: str) -> dict:
    found = [p for p in (prefix / "conda-meta").glob(f"{name}-*.json")
             if p.name.rsplit("-", 2)[0] == name]
    assert len(found) == 1, sorted(p.name for p in (prefix / "conda-meta").iterdir())
    return json.loads(found[0].read_text())


# binder-examples/bokeh (tests/lock/fixtures/real-conda-no-channels): bokeh, pandas, scipy and
# pip from conda, jupyter-server-proxy from PyPI. The mirror carries what conda-forge's bokeh
# 3.4.1 needs of them (numpy, pandas, pyyaml, tornado >=6.2: PyPI bokeh 3.4.1's Requires-Dist,
# trimmed); the wheels carry jupyter-server-proxy 4.3.0's own Requires-Dist (PyPI's METADATA,
# the extras left out) and jupyter-server's need of tornado and traitlets. tornado is the
# package both sides need: conda solves 6.4.1, PyPI offers a newer 6.5.1.
BOKEH_MIRROR = [
    conda_python(),
    conda_python_dist("numpy", "1.26.4"),
    conda_python_dist("pandas", "2.2.2", depends=("numpy >=1.22",)),
    conda_python_dist("scipy", "1.13.0", depends=("numpy >=1.22",)),
    conda_python_dist("pyyaml", "6.0.1", pypi_name="PyYAML"),
    conda_python_dist("tornado", "6.4.1"),
    conda_python_dist("bokeh", "3.4.1", depends=("numpy >=1.16", "pandas >=1.2",
                                                 "pyyaml >=3.10", "tornado >=6.2")),
    conda_python_dist("pip", "24.0"),
]
PROXY_WHEELS = [
    FakeDist("jupyter-server-proxy", "4.3.0", requires=(
        "aiohttp", "importlib-metadata>=4.8.3; python_version < '3.10'", "jupyter-server>=1.24.0",
        "simpervisor>=1.0.0", "tornado>=6.1.0", "traitlets>=5.1.0")),
    FakeDist("jupyter-server", "2.14.1", requires=("tornado>=6.2.0", "traitlets>=5.6.0")),
    FakeDist("aiohttp", "3.9.5"), FakeDist("simpervisor", "1.0.0"),
    FakeDist("traitlets", "5.14.3"), FakeDist("importlib-metadata", "8.0.0"),
    FakeDist("tornado", "6.4.1"), FakeDist("tornado", "6.5.1"),
    FakeDist("numpy", "1.26.4"), FakeDist("numpy", "2.1.0"),
]


def test_the_pip_part_leaves_condas_packages_to_conda_and_env_create_keeps_them(samepack,
                                                                               tmp_path):
    root = copy_fixture("real-conda-no-channels", tmp_path)
    mirror = channel_of(BOKEH_MIRROR, tmp_path / "conda-forge")
    offline = wheels_of(PROXY_WHEELS, tmp_path / "wheels")
    args = ("package-env", root, "--channel", mirror, *offline)
    result = samepack(*args)
    assert result.exit_code == 0, result.stderr

    assert conda_versions(root / "conda-lock.yml")["tornado"] == "6.4.1"
    # only what PyPI alone provides: tornado is conda's (not PyPI's newer 6.5.1)
    assert pip_pins(root) == {"aiohttp": "3.9.5", "jupyter-server": "2.14.1",
                              "jupyter-server-proxy": "4.3.0", "simpervisor": "1.0.0",
                              "traitlets": "5.14.3"}
    lock = (root / "requirements.txt").read_text()
    assert lock.count("--hash=sha256:") == 5

    before = files_of(root)
    assert samepack(*args).exit_code == 0
    assert files_of(root) == before  # conda-lock.yml and requirements.txt byte for byte
    # no earlier lock to steer it: the same bytes all the same
    fresh = copy_fixture("real-conda-no-channels", tmp_path / "fresh")
    assert samepack("package-env", fresh, "--channel", mirror, *offline).exit_code == 0
    for name in ("conda-lock.yml", "requirements.txt"):
        assert (fresh / name).read_bytes() == (root / name).read_bytes(), name
    assert samepack("package-env", root, "--check").exit_code == 0

    prefix = tmp_path / "env"
    created = samepack("env", "create", root, "--prefix", prefix, *offline)
    assert created.exit_code == 0, created.stderr
    record = conda_record(prefix, "tornado")
    assert record["version"] == "6.4.1"
    assert all((prefix / path).is_file() for path in record["files"])  # conda's files, all there
    assert (prefix / SITE / "tornado-6.4.1.dist-info" / "INSTALLER").read_text() == "conda\n"
    assert not list((prefix / SITE).glob("tornado-6.5*"))
    assert run_in(prefix, "import tornado, jupyter_server_proxy; print(tornado.__version__, "
                          "tornado.FROM, jupyter_server_proxy.__version__)") == "6.4.1 conda 4.3.0"


def small_conda_project(tmp_path: Path, pip: str, wheels: list[FakeDist]) -> tuple[Path, tuple]:
    channel = channel_of([conda_python(), conda_python_dist("numpy", "1.26.4")],
                         tmp_path / "channel")
    root = tmp_path / "project"
    root.mkdir()
    (root / "environment.yml").write_text(
        f"channels: [{channel}]\ndependencies:\n  - python={PYTHON}\n  - numpy\n"
        f"  - pip:\n    - {pip}\n")
    return root, wheels_of(wheels, tmp_path / "wheels")


def test_a_pip_part_the_conda_solution_excludes_is_one_line_naming_environment_yml(
        samepack_proc, tmp_path):
    root, offline = small_conda_project(tmp_path, "sigtool>=2", [
        FakeDist("sigtool", "2.0", requires=("numpy>=2",)),
        FakeDist("numpy", "1.26.4"), FakeDist("numpy", "2.1.0")])
    before = files_of(root)
    done = samepack_proc("package-env", root, *offline, timeout=300)
    assert done.returncode == 11, done.stderr
    assert "Traceback" not in done.stderr
    first, hint = done.stderr.splitlines()[:2]
    assert first.startswith("error: environment.yml: the pip: packages cannot be installed "
                            "beside what conda solved (numpy 1.26.4): ")
    assert "sigtool" in first and "numpy>=2" in first
    assert hint.startswith("hint: loosen or pin numpy in environment.yml's conda dependencies")
    assert files_of(root) == before  # nothing written


def test_env_create_refuses_a_pip_lock_that_would_replace_a_conda_package(samepack, tmp_path):
    """A pip lock pinning PyPI's numpy beside conda's (as the pip part was locked before it was
    locked against the conda solution): one line, before anything is installed."""
    numpy2 = FakeDist("numpy", "2.1.0")
    root, offline = small_conda_project(tmp_path, "sigtool", [
        FakeDist("sigtool", "1.0", requires=("numpy",)), FakeDist("numpy", "1.26.4"), numpy2])
    assert samepack("package-env", root, *offline).exit_code == 0
    assert "numpy" not in pip_pins(root)
    wheel = next((tmp_path / "wheels").glob("numpy-2.1.0-*.whl"))
    old = (root / "requirements.txt").read_text() + (
        f"numpy==2.1.0 \\\n    --hash=sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}\n")
    (root / "requirements.txt").write_text(old)
    env = json.loads((root / ".samepack" / "env.json").read_text())
    env["files"]["requirements.txt"] = "sha256:" + hashlib.sha256(old.encode()).hexdigest()
    (root / ".samepack" / "env.json").write_text(json.dumps(env, indent=2, sort_keys=True))

    prefix = tmp_path / "env"
    created = samepack("env", "create", root, "--prefix", prefix, *offline)
    assert created.exit_code == 5, created.stderr
    assert created.stderr.splitlines()[0] == (
        "error: requirements.txt pins numpy 2.1.0 (conda: 1.26.4), which conda-lock.yml "
        "installs from conda: installing it would replace conda's package")
    assert "samepack package-env" in created.stderr and not prefix.exists()

    # the hint's way out: locked again, the old pin (a preference now) gives way to conda's
    assert samepack("package-env", root, *offline).exit_code == 0
    assert pip_pins(root) == {"sigtool": "1.0"}
    created = samepack("env", "create", root, "--prefix", prefix, *offline)
    assert created.exit_code == 0, created.stderr
    assert conda_record(prefix, "numpy")["version"] == "1.26.4"
    assert run_in(prefix, "import numpy; print(numpy.__version__, numpy.FROM)") == "1.26.4 conda"


def test_conda_versions_that_differ_by_platform_constrain_each_platform(samepack, tmp_path):
    """numpy 1.26.4 on linux-64, 1.26.3 on linux-aarch64: one constraint per platform (both
    at once would be unsolvable), numpy in neither's pip lock."""
    channel = channel_of([
        conda_python(), conda_python("linux-aarch64"),
        conda_python_dist("numpy", "1.26.4"),
        conda_python_dist("numpy", "1.26.3", subdir="linux-aarch64")], tmp_path / "channel")
    root = tmp_path / "project"
    root.mkdir()
    (root / "environment.yml").write_text(
        f"channels: [{channel}]\ndependencies:\n  - python={PYTHON}\n  - numpy\n"
        "  - pip:\n    - sigtool\nplatforms: [linux-64, linux-aarch64]\n")
    offline = wheels_of([FakeDist("sigtool", "1.0", requires=("numpy",)),
                         FakeDist("numpy", "1.26.3"), FakeDist("numpy", "1.26.4"),
                         FakeDist("numpy", "2.1.0")], tmp_path / "wheels")
    result = samepack("package-env", root, *offline)
    assert result.exit_code == 0, result.stderr
    assert pip_pins(root) == {"sigtool": "1.0"}


def test_which_conda_packages_are_python_distributions():
    """Depends on python and has a PyPI name: conda-lock's rule. C libraries and tools (no
    python dependency) and conda-only names are not; a python-* package names the bindings."""
    solved = [
        CondaPackage("python", "3.11.9", ("libzlib",)), CondaPackage("pip", "24.0", ("python",)),
        CondaPackage("numpy", "1.26.4", ("libblas", "python", "python_abi")),
        CondaPackage("matplotlib-base", "3.8.4", ("numpy", "python")),
        CondaPackage("pytorch", "2.3.1", ("python", "libtorch")),
        CondaPackage("cmake", "3.29.3", ("libcurl", "zlib")),
        CondaPackage("libxgboost", "2.0.3", ("libgcc-ng",)),
        CondaPackage("py-xgboost", "2.0.3", ("libxgboost", "python")),
        CondaPackage("graphviz", "9.0.0", ("cairo",)),
        CondaPackage("python-graphviz", "0.20.3", ("graphviz", "python")),
        CondaPackage("ruamel_yaml", "0.15.80", ("python",)),
        CondaPackage("__glibc", "2.28", ()),
    ]
    assert python_distributions(solved) == {
        "graphviz": "0.20.3", "matplotlib": "3.8.4", "numpy": "1.26.4",
        "ruamel-yaml": "0.15.80", "torch": "2.3.1", "xgboost": "2.0.3"}


def test_constraints_are_plain_where_platforms_agree_and_marked_where_they_do_not():
    provided = CondaProvided({"linux-64": {"numpy": "1.26.4", "tornado": "6.4.1",
                                           "appnope": "0.1.4"},
                              "osx-arm64": {"numpy": "1.26.3", "tornado": "6.4.1",
                                            "appnope": "0.1.4", "odd": "1.0_1",
                                            "pyobjc-core": "10.3"}})
    assert provided.constraints() == [  # odd's version is not PEP 440: no constraint
        "appnope==0.1.4",
        "numpy==1.26.4 ; sys_platform == 'linux' and platform_machine == 'x86_64'",
        "numpy==1.26.3 ; sys_platform == 'darwin' and platform_machine == 'arm64'",
        "pyobjc-core==10.3 ; sys_platform == 'darwin' and platform_machine == 'arm64'",
        "tornado==6.4.1"]
    # on one platform only: constrained there, kept in the pip lock for the others
    assert provided.everywhere() == ["appnope", "numpy", "tornado"]
    assert provided.version_text("numpy") == "numpy 1.26.4 on linux-64, 1.26.3 on osx-arm64"
    assert set(PLATFORM_MARKERS) == set(UV_PLATFORMS)  # every platform a lock can be for


def test_build_of_a_conda_locked_project_says_it_installs_pip_locks_only(samepack_proc, tmp_path):
    """An image installs a pip lock only: a conda-locked project is refused before anything is
    built, naming conda-lock.yml and the way to a pip lock (its pip part alone would miss
    conda's packages)."""
    root, offline = small_conda_project(tmp_path, "sigtool", [
        FakeDist("sigtool", "1.0", requires=("numpy",)), FakeDist("numpy", "1.26.4")])
    locked = samepack_proc("package-env", root, *offline, timeout=300)
    assert locked.returncode == 0, locked.stderr
    before = files_of(root)
    done = samepack_proc("build", root, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    first, hint = done.stderr.splitlines()[:2]
    assert first == (f"error: {root / 'conda-lock.yml'}: the project's environment is locked "
                     "for conda; samepack build installs a pip lock only")
    assert "--locker uv" in hint
    assert files_of(root) == before
