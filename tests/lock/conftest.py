"""Hermetic package sources for the lock tests: a local wheel directory and a local conda
channel, both built once per test session (per xdist worker), and an environment with every
index setting of this machine removed so the tools see only them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from lockbuilders import (FakeCondaPackage, FakeDist, build_conda_package,  # noqa: E402
                      build_wheel, index_channel)

# Small real distributions with real dependencies between them: several versions, so
# resolution picks the newest that fits, and conflicts are real conflicts. Some carry the
# names of the fixtures' imports (numpy, pandas, scikit-learn…) so the fixture projects lock
# offline and their imports succeed in the recreated environment.
CATALOG = [
    FakeDist("alpha", "1.0"), FakeDist("alpha", "2.0", requires=("beta>=2",)),
    FakeDist("beta", "1.0"), FakeDist("beta", "2.0"), FakeDist("beta", "2.1"),
    FakeDist("gamma", "1.0", requires=("beta<2",)),
    FakeDist("numpy", "1.26.4"), FakeDist("numpy", "2.1.0"),
    FakeDist("pandas", "2.2.2", requires=("numpy>=1.26", 'pyarrow>=10; extra == "parquet"')),
    FakeDist("pyarrow", "16.1.0", requires=("numpy>=1.16.6",)),
    FakeDist("scipy", "1.11.4", requires=("numpy>=1.22",)),
    FakeDist("scipy", "1.13.0", requires=("numpy>=1.22",)),
    FakeDist("joblib", "1.4.2"),
    FakeDist("scikit-learn", "1.5.0", modules=("sklearn",),
             requires=("numpy>=1.19", "scipy>=1.6", "joblib>=1.2")),
    FakeDist("mlflow", "2.14.0", requires=("pandas", "numpy")),
    FakeDist("matplotlib", "3.9.0", requires=("numpy>=1.23",)),
    FakeDist("torch", "2.3.1"), FakeDist("torch", "2.3.1+cu121"),
    FakeDist("torchvision", "0.18.1", requires=("torch", "numpy")),
    FakeDist("torchvision", "0.18.1+cu121", requires=("torch", "numpy")),
    FakeDist("tqdm", "4.66.4"), FakeDist("pillow", "10.3.0", modules=("PIL",)),
    FakeDist("seaborn", "0.13.2", requires=("pandas>=1.2", "matplotlib>=3.4")),
    FakeDist("rich", "13.7.1"),
    # the messy fixture's
    FakeDist("flask", "3.0.3"), FakeDist("requests", "2.32.3"), FakeDist("kaleido", "0.2.1"),
    FakeDist("google-cloud-storage", "2.17.0", modules=("google",)),
    FakeDist("opencv-python", "4.10.0.84", modules=("cv2",), requires=("numpy>=1.21",)),
    FakeDist("plotly", "5.22.0"), FakeDist("plotly", "5.23.0"), FakeDist("pyyaml", "6.0.1", modules=("yaml",)),
    # the binder-conda-pip fixture's pip: section
    FakeDist("nbgitpuller", "1.2.1"), FakeDist("sphinx-gallery", "0.17.1", modules=("sphinx_gallery",)),
]

CONDA_PACKAGES = [
    FakeCondaPackage("tinylib", "1.0"), FakeCondaPackage("tinylib", "2.0"),
    FakeCondaPackage("tinyapp", "1.0", depends=("tinylib >=1,<2",),
                     files={"bin/tinyapp": "#!/bin/sh\necho tinyapp 1.0\n"}),
    FakeCondaPackage("needsnew", "1.0", depends=("tinylib >=2",)),
    FakeCondaPackage("linuxonly", "1.0", subdir="linux-64"),
    # names of the conda-project fixture's environment.yml
    FakeCondaPackage("python", "3.10.14", subdir="linux-64"),
    FakeCondaPackage("python", "3.11.9", subdir="linux-64"), FakeCondaPackage("pip", "24.0"),
    FakeCondaPackage("numpy", "1.26.4", subdir="linux-64"),
    FakeCondaPackage("scipy", "1.11.4", depends=("numpy >=1.22",), subdir="linux-64"),
    FakeCondaPackage("pyyaml", "6.0.1", subdir="linux-64"),
]

_INDEX_SETTINGS = ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL", "PIP_NO_INDEX",
                   "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS", "UV_INDEX",
                   "UV_DEFAULT_INDEX", "UV_NO_INDEX", "UV_CONFIG_FILE", "UV_PYTHON")


@pytest.fixture(autouse=True)
def hermetic_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """No index configuration of this machine reaches pip, pip-tools or uv."""
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    for name in _INDEX_SETTINGS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def wheel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("wheels")
    for dist in CATALOG:
        build_wheel(dist, target)
    return target


@pytest.fixture(scope="session")
def conda_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    channel = tmp_path_factory.mktemp("channel")
    for package in CONDA_PACKAGES:
        build_conda_package(package, channel)
    index_channel(channel)
    return channel


@pytest.fixture
def offline(wheel_dir: Path) -> tuple[str, ...]:
    """CLI arguments that make package-env / env create use only the local wheels."""
    return ("--find-links", str(wheel_dir), "--no-index")
