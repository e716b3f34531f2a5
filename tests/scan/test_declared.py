"""Declared dependencies, one reader at a time (table-driven where the format allows)."""

from __future__ import annotations

import pytest

from samepack.errors import InputError
from samepack.scan.context import ScanContext
from samepack.scan.declared.files import declared_requirements, from_setup_py
from samepack.scan.declared.pyproject_deps import poetry_specifier
from samepack.scan.declared.conda_env import conda_spec_as_pep508
from samepack.scan.sources.walk import collect_files


def declared(root, files: dict[str, str]):
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    ctx = ScanContext(root, collect_files(root))
    found = declared_requirements(ctx)
    return [(d.name, d.requirement, d.group, str(d.evidence)) for d in found], ctx.problems


def test_requirements_with_includes_markers_extras_and_options(tmp_path):
    found, problems = declared(tmp_path, {
        "requirements.txt": "-r base.in\n--index-url https://x/simple\n-e .\n"
                            "pandas[parquet]>=2 ; python_version >= '3.9'  # data\n"
                            "numpy==1.26.4 \\\n    --hash=sha256:abc\n"
                            "git+https://example.org/repo.git#egg=My_Tool\nnot a requirement!\n",
        "base.in": "requests>=2\n-r requirements.txt\n",
    })
    assert found == [
        ("requests", "requests>=2", None, "base.in:1"),
        ("pandas", 'pandas[parquet]>=2; python_version >= "3.9"', None, "requirements.txt:4"),
        ("numpy", "numpy==1.26.4", None, "requirements.txt:5"),
        ("my-tool", "git+https://example.org/repo.git#egg=My_Tool", None, "requirements.txt:7"),
    ]
    assert [p.path for p in problems] == ["requirements.txt"]
    assert "line 8" in problems[0].reason


def test_requirement_file_names_give_groups(tmp_path):
    found, _ = declared(tmp_path, {"requirements-dev.txt": "pytest\n", "requirements/docs.in": "sphinx\n",
                                   "dev-requirements.txt": "ruff\n"})
    assert {(name, group) for name, _, group, _ in found} == {
        ("pytest", "dev"), ("sphinx", "docs"), ("ruff", "dev")}


def test_pyproject_pep621_groups_and_poetry(tmp_path):
    found, _ = declared(tmp_path, {"pyproject.toml": '''
[project]
name = "x"
dependencies = ["numpy>=1.24", "PyYAML"]
[project.optional-dependencies]
plot = ["matplotlib"]
[dependency-groups]
test = ["pytest>=8"]
[tool.poetry.dependencies]
python = "^3.10"
requests = "^2.31"
rich = {version = "~13.7", extras = ["jupyter"]}
[tool.poetry.group.dev.dependencies]
black = "*"
'''})
    assert [(n, r, g) for n, r, g, _ in found] == [
        ("numpy", "numpy>=1.24", None), ("pyyaml", "PyYAML", None), ("matplotlib", "matplotlib", "plot"),
        ("pytest", "pytest>=8", "test"), ("requests", "requests>=2.31,<3.0", None),
        ("rich", "rich[jupyter]>=13.7,<13.8", None), ("black", "black", "dev")]
    assert dict((n, e) for n, _, _, e in found)["numpy"] == "pyproject.toml:4"


@pytest.mark.parametrize("spec,expected", [
    ("^1.2.3", ">=1.2.3,<2.0.0"), ("^0.2.3", ">=0.2.3,<0.3.0"), ("^0.0.3", ">=0.0.3,<0.0.4"),
    ("~1.2.3", ">=1.2.3,<1.3.0"), ("~1", ">=1,<2"), ("1.2.3", "==1.2.3"), ("*", ""),
    (">=1,<2", ">=1,<2"), ("~=1.4", "~=1.4"),
])
def test_poetry_constraints(spec, expected):
    assert poetry_specifier(spec) == expected


def test_setup_py_is_parsed_never_executed(tmp_path):
    marker = tmp_path / "executed"
    found, _ = declared(tmp_path, {"setup.py": f'''
import pathlib
pathlib.Path({str(marker)!r}).write_text("ran")
from setuptools import setup
REQUIRES = ["scipy>=1.11"]
setup(name="x", install_requires=REQUIRES, extras_require={{"gpu": ["cupy-cuda12x"]}})
'''})
    assert [(n, g) for n, _, g, _ in found] == [("scipy", None), ("cupy-cuda12x", "gpu")]
    assert not marker.exists()


def test_setup_cfg_environment_and_pipfile(tmp_path):
    found, _ = declared(tmp_path, {
        "setup.cfg": "[options]\ninstall_requires =\n    click>=8\n    # comment\n    attrs\n"
                     "[options.extras_require]\ntest = pytest\n",
        "environment.yml": "name: x\nchannels: [conda-forge]\ndependencies:\n  - python=3.10\n"
                           "  - conda-forge::scipy=1.11\n  - pytorch\n  - pip\n  - pip:\n    - rich>=13\n",
        "Pipfile": '[packages]\nflask = ">=2.0"\n"Django" = {version = "*", extras = ["argon2"]}\n'
                   '[dev-packages]\npytest = "*"\n',
    })
    assert found == [
        ("click", "click>=8", None, "setup.cfg:3"), ("attrs", "attrs", None, "setup.cfg:5"),
        ("pytest", "pytest", "test", "setup.cfg:7"),
        ("flask", "flask>=2.0", None, "Pipfile:2"), ("django", "Django[argon2]", None, "Pipfile:3"),
        ("pytest", "pytest", "dev", "Pipfile:5"),
        ("scipy", "conda-forge::scipy=1.11", None, "environment.yml:5"),
        ("torch", "pytorch", None, "environment.yml:6"), ("rich", "rich>=13", None, "environment.yml:9"),
    ]


@pytest.mark.parametrize("name,spec,expected", [
    ("scipy", "scipy=1.11", "scipy==1.11.*"), ("numpy", "numpy>=1.24", "numpy>=1.24"),
    ("numpy", "numpy 1.24.*", "numpy==1.24.*"), ("pyyaml", "pyyaml", "pyyaml"),
    ("numpy", "numpy=1.26.4", "numpy==1.26.4"), ("torch", "pytorch", "torch"),
])
def test_conda_specs_become_pep508(name, spec, expected):
    assert conda_spec_as_pep508(name, spec) == expected


def test_invalid_pyproject_is_an_input_error_naming_the_line(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = x\n')
    ctx = ScanContext(tmp_path, collect_files(tmp_path))
    with pytest.raises(InputError) as raised:
        declared_requirements(ctx)
    assert "pyproject.toml" in raised.value.message and "line" in raised.value.message


def test_setup_py_with_syntax_error_declares_nothing(tmp_path):
    (tmp_path / "setup.py").write_text("setup(install_requires=[\n")
    assert from_setup_py(ScanContext(tmp_path, collect_files(tmp_path))) == []


PLAIN_AND_NOT = [
    "pandas", "Pandas>=1.5", "pandas >= 1.5", "scikit_learn>=1.2,<2", "a >1, <3 ,!=2.1",
    "rich[jupyter, b]==13", "A[Foo_Bar]", "numpy==1.*", "numpy!=1.2.*", "a~=1.2", "a~=1.2rc1",
    "torch==2.3.1+cu121", "x==1.0rc1", "x>=1.0.post2.dev3", "x===1.0", "x.y-z==1.0", "a==1,==1",
    # not plain: packaging decides (and may refuse)
    "x>=1.5.x", "a~=1", "a>=1.*", "torch>=2.3+cu121", "x==1!2.0", "x==1.0RC1", "x (>=1.0)",
    "pywin32; sys_platform == 'win32'", "pkg @ https://example.org/pkg-1.0.tar.gz", "-bad",
    "x[", "x==", "x>=1,", "name with space",
]


@pytest.mark.parametrize("line", PLAIN_AND_NOT)
def test_plain_requirement_lines_read_exactly_as_packaging_reads_them(line):
    from packaging.requirements import InvalidRequirement, Requirement

    from samepack.scan.declared.requirements_txt import plain_requirement

    try:
        parsed = Requirement(line)
        expected = (parsed.name, str(parsed))
    except InvalidRequirement:
        expected = None
    plain = plain_requirement(line)
    assert plain is None or plain == expected  # the fast path never disagrees with packaging
    if "; " not in line and "@" not in line and "(" not in line and expected and \
            PLAIN_AND_NOT.index(line) < PLAIN_AND_NOT.index("x>=1.5.x"):
        assert plain == expected  # and the plain lines do take it


def test_a_scan_of_plain_requirements_does_not_import_packaging(tmp_path):
    import subprocess
    import sys

    (tmp_path / "requirements.txt").write_text("pandas>=1.5\nscikit-learn\nrich[jupyter]==13\n")
    (tmp_path / "train.py").write_text("import pandas\nimport sklearn\n")
    probe = ("import sys; from samepack.scan import scan_project; "
             "scan = scan_project(sys.argv[1], '3.11', use_installed=False); "
             "print(scan.requirements()); print(sorted(m for m in sys.modules if m.startswith('packaging')))")
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True,
                          text=True, check=True)
    assert done.stdout.splitlines() == ["['pandas>=1.5', 'rich[jupyter]==13', 'scikit-learn']", "[]"]
