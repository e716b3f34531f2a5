"""`samepack init` on the fixture projects: golden programs, programs that run unchanged,
choosing among entry points, and never overwriting without --force.

Regenerate the golden files with SAMEPACK_UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import FIXTURES

UPDATE = os.environ.get("SAMEPACK_UPDATE_GOLDEN") == "1"

# fixture -> the --entry to pass (None: the only plausible entry point is taken)
GOLDEN = {
    "argparse-script": None,
    "wine-quality": None,
    "conda-project": None,
    "pytorch-cuda": "train",
    "messy": None,
    "mlflow-example": "main",
    "unseeded": None,
}


def init_args(project: Path, entry: str | None) -> list[str]:
    return ["init", str(project)] + (["--entry", entry] if entry else [])


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden(name: str, fixture_project, samepack) -> None:
    project = fixture_project(name)
    result = samepack(*init_args(project, GOLDEN[name]), "--force")
    assert result.exit_code == 0, result.stderr
    written = (project / "samepack.yaml").read_text(encoding="utf-8")
    golden = FIXTURES / name / "expected-init.yaml"
    if UPDATE:
        golden.write_text(written, encoding="utf-8")
    assert written == golden.read_text(encoding="utf-8")
    assert "what was inferred" in result.stdout


def run_program(samepack_proc, project: Path, *overrides: str) -> dict:
    """Run the program as a user would (a real subprocess); its record from the history."""
    from samepack.history import History

    result = samepack_proc("run", "-f", project / "samepack.yaml", *overrides, cwd=project,
                           timeout=300)
    assert result.returncode == 0, result.stderr
    history = History()
    try:
        return history.list_runs(limit=1)[0].to_dict()
    finally:
        history.close()


@pytest.mark.parametrize("name,overrides,metric", [
    ("argparse-script", ["--epochs=5", "--optimizer=momentum"], "mse"),
    ("unseeded", ["--samples=50"], "pi"),
])
def test_inferred_program_runs_unchanged(name, overrides, metric, fixture_project, samepack,
                                         samepack_proc) -> None:
    project = fixture_project(name)
    assert samepack(*init_args(project, GOLDEN[name])).exit_code == 0
    record = run_program(samepack_proc, project, *overrides)
    assert record["status"] == "succeeded" and metric in record["metrics"]
    for override in overrides:
        key, value = override[2:].split("=")
        assert str(record["params"][key]) == value


@pytest.mark.slow
def test_wine_quality_runs_exports_and_reproduces(fixture_project, samepack, samepack_proc,
                                                  tmp_path: Path) -> None:
    """The bundled example end to end: the inferred program runs as it is (the fixture's own
    samepack.yaml replaced), its bundle reproduces. (mlflow-example's inferred step is the
    MLproject's command, run in test_mlproject.py.)"""
    wine = fixture_project("wine-quality")
    assert samepack("init", wine, "--force").exit_code == 0
    record = run_program(samepack_proc, wine, "--alpha=0.3")
    assert record["params"]["alpha"] == 0.3 and {"rmse", "r2"} <= set(record["metrics"])
    bundle = tmp_path / "wine.tgz"
    assert samepack("create", "program", "-f", wine / "samepack.yaml").exit_code == 0
    assert samepack("export", "program", "-n", "wine-quality", "-o", bundle).exit_code == 0
    result = samepack("reproduce", bundle, "--no-env", "--report-dir", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "reproduced: " in result.stdout and "matched the record" in result.stdout


def test_never_overwrites_without_force(fixture_project, samepack) -> None:
    project = fixture_project("argparse-script")
    (project / "samepack.yaml").write_text("# mine\n")
    result = samepack("init", project)
    assert result.exit_code == 5
    assert result.stderr.startswith("error: ") and "already exists" in result.stderr
    assert (project / "samepack.yaml").read_text() == "# mine\n"
    assert samepack("init", project, "--force").exit_code == 0
    assert yaml.safe_load((project / "samepack.yaml").read_text())["kind"] == "Program"
    assert not [p for p in project.iterdir() if p.name.endswith(".tmp")]


def test_several_candidates_without_a_terminal(fixture_project, samepack) -> None:
    project = fixture_project("pytorch-cuda")
    result = samepack("init", project)
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and "evaluate.py, train.py" in lines[0]
    assert lines[-1] == "hint: pass --entry NAME to choose one (repeat --entry for steps run in order)"
    assert not (project / "samepack.yaml").exists()


def test_unknown_entry_and_empty_project(tmp_path: Path, fixture_project, samepack) -> None:
    result = samepack("init", fixture_project("argparse-script"), "--entry", "nope.py")
    assert result.exit_code == 4 and "choose one of: train.py" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = samepack("init", empty)
    assert result.exit_code == 3 and "no entry point found" in result.stderr
    (empty / "flat.py").write_text("import sys\nprint(sys.argv[1])\n")
    assert samepack("init", empty, "--entry", "flat.py").exit_code == 0
    assert "python flat.py {params.arg1}" in (empty / "samepack.yaml").read_text()
    assert samepack("init", tmp_path / "missing").exit_code == 3
    result = samepack("init", empty, "--entry", "flat.py", "--force", "--version", "1 beta")
    assert result.exit_code == 3 and "metadata.version" in result.stderr
    assert result.stderr.strip().endswith("hint: give another --version or --name")


def test_dry_run_prints_and_writes_nothing(fixture_project, samepack) -> None:
    project = fixture_project("unseeded")
    result = samepack("init", project, "--dry-run", "--name", "pi", "--version", "2.0")
    assert result.exit_code == 0
    data = yaml.safe_load(result.stdout)
    assert data["metadata"] == {"name": "pi", "version": "2.0",
                                "description": "A Monte Carlo estimate of pi that forgets to "
                                               "seed its random generator: every run differs."}
    assert not (project / "samepack.yaml").exists()


def test_asks_on_a_terminal(fixture_project) -> None:
    project = fixture_project("pytorch-cuda")
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "samepack", "init", str(project)],
                                   stdin=terminal, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        os.write(controller, b"2\n")
        stdout, stderr = process.communicate(timeout=120)
    finally:
        os.close(controller)
        os.close(terminal)
    assert process.returncode == 0, stderr
    assert "Several entry points are plausible" in stderr
    program = yaml.safe_load((project / "samepack.yaml").read_text())
    assert list(program["steps"]) == ["train"]


def test_notebook_with_a_parameters_cell(tmp_path: Path, samepack, samepack_proc) -> None:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Scale a number"),
        nbformat.v4.new_code_cell("factor = 2.0  # how much to scale\nlabel = 'x'",
                                  metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport json, os\nresult = 21 * factor\n"
                                  "with open(os.environ['SAMEPACK_METRICS'], 'a') as f:\n"
                                  "    f.write(json.dumps({'name': 'result', 'value': result}))"),
    ]
    project = tmp_path / "scaler"
    project.mkdir()
    nbformat.write(notebook, project / "scale.ipynb")
    result = samepack("init", project)
    assert result.exit_code == 0, result.stderr
    program = yaml.safe_load((project / "samepack.yaml").read_text())
    assert program["parameters"] == {
        "factor": {"type": "float", "default": 2.0, "help": "how much to scale"},
        "label": {"type": "str", "default": "x"}}
    assert program["steps"] == {"scale": {"run": "python", "notebook": "scale.ipynb#same_step_0"}}
    record = run_program(samepack_proc, project, "--factor=3")
    assert record["metrics"] == {"result": 63.0}
