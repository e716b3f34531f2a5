"""The ``samepack scan`` command: outputs, and bad input as one-line errors without tracebacks."""

from __future__ import annotations

import json

import pytest


def assert_one_line_error(result, *needles: str, code: int = 3):
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    assert len([line for line in lines if line.startswith("error:")]) == 1
    for needle in needles:
        assert needle in lines[0]


def test_missing_path(samepack, tmp_path):
    assert_one_line_error(samepack("scan", tmp_path / "nope"), "nope", "no such directory")


def test_file_instead_of_directory(samepack, tmp_path):
    (tmp_path / "train.py").write_text("import numpy\n")
    assert_one_line_error(samepack("scan", tmp_path / "train.py"), "train.py", "not a project directory")


def test_invalid_pyproject(samepack, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = [numpy]\n')
    assert_one_line_error(samepack("scan", tmp_path), "pyproject.toml", "invalid TOML", "line 3")


@pytest.mark.parametrize("value", ["2.7", "3", "3.99", "latest"])
def test_unknown_target_python(samepack, tmp_path, value):
    assert_one_line_error(samepack("scan", tmp_path, "--python", value), f"--python {value}")


def test_json_and_format_conflict(samepack, tmp_path):
    assert_one_line_error(samepack("scan", tmp_path, "--json", "--format", "table"), "--json")


def test_requirements_format_is_one_distribution_per_line(samepack, fixture_project):
    result = samepack("scan", fixture_project("wine-quality"), "--format", "requirements")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "matplotlib>=3.7", "mlflow>=2.9", "pandas>=1.5", "scikit-learn>=1.2", "seaborn"]


def test_used_only_drops_declared_but_unused(samepack, fixture_project):
    project = fixture_project("messy")
    everything = samepack("scan", project, "--format", "requirements").stdout.splitlines()
    used = samepack("scan", project, "--format", "requirements", "--used-only").stdout.splitlines()
    assert "flask>=2.0" in everything and "flask>=2.0" not in used
    assert set(used) < set(everything)


def test_problems_are_reported_but_not_fatal(samepack, fixture_project):
    result = samepack("scan", fixture_project("messy"), "--json", "--no-installed")
    assert result.exit_code == 0
    assert {p["path"] for p in json.loads(result.stdout)["problems"]} == {
        "broken.py", "legacy_py2.py", "notebooks/corrupt.ipynb"}
    assert "3 file(s) could not be read" in result.stderr


def test_table_shows_statuses_and_evidence(samepack_proc, fixture_project):
    # a real process: the console takes its width from COLUMNS when it starts
    done = samepack_proc("scan", fixture_project("messy"), env={"COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    for text in ("black[jupyter]==24.4.2", "undeclared", "unused", "libgl1", "app.py:7",
                 "looks like Python 2", "declared but never imported"):
        assert text in done.stdout


def test_scan_in_the_current_directory_as_a_real_process(samepack_proc, fixture_project):
    project = fixture_project("pytorch-cuda")
    done = samepack_proc("scan", ".", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    scan = json.loads(done.stdout)
    assert scan["project"] == "pytorch-cuda" and scan["hardware"]["cuda"] == "12.1"
    assert scan["hardware"]["multi_gpu"] is True
