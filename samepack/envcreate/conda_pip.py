"""The pip part of a conda environment, installed beside what conda installed and never over
it. The pip lock leaves out the Python packages the conda solution provides (see
:mod:`samepack.lock.conda_python`), so it is installed with ``--no-deps``: uv would otherwise
ask for a hash of every dependency the lock does not list (conda's numpy among them) though it
is installed. A pip lock that still pins one of conda's packages at another version (one made
before the pip part was locked against the conda solution) would replace it: that is refused
before anything is installed."""

from __future__ import annotations

from pathlib import Path

from packaging.version import InvalidVersion, Version

from samepack.errors import ConflictError
from samepack.lock.conda_python import from_lock_entries, python_distributions
from samepack.lock.pins import pins_from_requirements


def check_pip_lock_beside_conda(pip_lock: Path, conda_entries: list[dict],
                                conda_lock_name: str) -> None:
    """Refuse a pip lock pinning a Python package the conda lock installs at another version
    (``conda_entries``: the conda lock's packages for this platform)."""
    provided = python_distributions(from_lock_entries(conda_entries))
    pins = pins_from_requirements(pip_lock.read_text(encoding="utf-8"))
    clashes = [f"{pin.name} {pin.version} (conda: {provided[pin.name]})" for pin in pins
               if pin.name in provided and not _same(pin.version, provided[pin.name])]
    if clashes:
        raise ConflictError(f"{pip_lock.name} pins {', '.join(clashes)}, which {conda_lock_name} "
                            "installs from conda: installing it would replace conda's package",
                            hint="lock again with `samepack package-env`: the pip part is then "
                                 "locked against the conda packages and leaves them out")


def _same(pip_version: str, conda_version: str) -> bool:
    try:
        return Version(pip_version) == Version(conda_version)
    except InvalidVersion:
        return pip_version == conda_version
