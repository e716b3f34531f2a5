"""The PyPI equivalents of a conda environment (pure): renamed packages, conda version syntax,
and what has no equivalent, named in the warning."""

from __future__ import annotations

from samepack.envfiles.conda_pypi import pypi_equivalents
from samepack.envfiles.program_lock import pointed_at
from samepack.lock.model import CondaSpec


def test_conda_packages_become_their_pypi_distributions():
    spec = CondaSpec(channels=("conda-forge",), pip=("rich>=13",), dependencies=(
        "python=3.10", "pip", "numpy>=1.24", "scipy=1.11", "pytorch=2.3", "cudatoolkit=11.8",
        "conda-forge::matplotlib-base 3.8.*", "libgdal", "pyyaml"))
    translation = pypi_equivalents(spec)
    assert translation.requirements == ["numpy>=1.24", "scipy==1.11.*", "torch==2.3.*",
                                        "matplotlib==3.8.*", "pyyaml", "rich>=13"]
    warning = translation.warning("no conda channel could be reached")
    assert warning == (
        "no conda channel could be reached: locked the PyPI equivalents of environment.yml's "
        "conda packages; translated numpy>=1.24, scipy=1.11 -> scipy==1.11.*, "
        "pytorch=2.3 -> torch==2.3.*, conda-forge::matplotlib-base 3.8.* -> matplotlib==3.8.*, "
        "pyyaml; no PyPI equivalent for cudatoolkit=11.8, libgdal")


def test_program_lock_is_pointed_at_the_hashed_file_only_when_it_names_a_pip_lock():
    program = "environment:\n  python: '3.11'\n  lock: requirements.txt  # pins\nsteps: {}\n"
    assert pointed_at(program, "requirements.lock") == program.replace(
        "lock: requirements.txt", "lock: requirements.lock")
    own = "environment:\n  lock: locks/prod.txt\n"
    assert pointed_at(own, "requirements.lock") == own  # a lock of the user's choosing
    elsewhere = "steps:\n  train:\n    lock: requirements.txt\nenvironment:\n  python: '3.11'\n"
    assert pointed_at(elsewhere, "requirements.lock") == elsewhere  # not environment's key


def test_conda_graphviz_is_the_program_and_python_graphviz_the_bindings():
    """conda-forge's ``graphviz`` is the C program (``dot``), not PyPI's ``graphviz`` (the
    Python bindings, conda's ``python-graphviz``): it has no PyPI equivalent."""
    translation = pypi_equivalents(CondaSpec(channels=("conda-forge",), pip=(),
                                             dependencies=("graphviz", "python-graphviz")))
    assert translation.requirements == ["graphviz"]
    assert translation.translated == [("python-graphviz", "graphviz")]
    assert translation.untranslatable == ["graphviz"]
