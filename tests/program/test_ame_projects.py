"""AME's own test projects and demo (fixtures/ame): each registers and runs as it does in AME,
or is refused or warned about by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from samepack.history import History
from samepack.program import load_program

AME = Path(__file__).resolve().parents[2] / "fixtures" / "ame"


def _load(name: str):
    return load_program(AME / name, show_warnings=False)


def test_every_valid_test_project_registers(samepack):
    for project in sorted(p.parent for p in AME.rglob("ame.y*ml")):
        if project.name == "invalid_project":
            continue
        result = samepack("create", "program", "-f", project / next(
            p.name for p in project.iterdir() if p.name.startswith("ame.y")), "--force")
        assert result.exit_code == 0, (project, result.stderr)


def test_invalid_project_is_refused(samepack):
    result = samepack("create", "program", "-f", AME / "invalid_project" / "ame.yaml")
    assert result.exit_code == 3 and "Traceback" not in result.stderr
    assert "ame.yaml:1: name: the project name must be a string, got a list" in result.stderr


def test_mlflow_executor_without_command_runs_the_mlproject():
    program = _load("executors/mlflow")
    assert program.steps["training"].run == "python nn.py"  # MLProject's main entry point
    assert program.steps["training-with-local-template"].run == "python nn.py"
    assert program.steps["training-with-local-template"].resources.memory == "1Gi"
    assert "training-with-remote-template" not in program.steps
    assert any("tasks[2].fromTemplate" in w and "left out" in w for w in program.warnings)
    assert program.environment.python == "3.11"  # from python_env.yaml


def test_python_versions_are_read_as_written():
    assert _load("executors/pip").environment.python == "3.10"
    assert _load("executors/custom").environment.python == "3.10"
    assert _load("executors/poetry").environment.python == "3.10.9"


def test_secrets_written_as_ame_mappings_reach_only_their_task():
    program = _load("env")
    assert [(s.name, s.env, s.steps) for s in program.secrets] == [("mysecret", "VAR1", ["testsecret"])]
    assert program.steps["testenv"].env == {"VAR1": "VAL1", "VAR2": "VAL2"}


def test_ame_pipeline_runs_with_each_task_its_own_env_and_secret(samepack, tmp_path):
    """AME's pipeline project checks MODE, S3_BUCKET and its secret in each of its steps."""
    project = shutil.copytree(AME / "pipeline", tmp_path / "pipeline")
    program = load_program(project, show_warnings=False)
    assert [(s.env, s.steps) for s in program.secrets] == [("STORAGE_S3_SECRET", ["main-data"])]
    result = samepack("run", "-f", project, env={"STORAGE_S3_SECRET": "sometoken"})
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "[main-data] preparing data" in result.stdout
    assert (project / "models" / "model.txt").read_text() == "mymodel"

    from samepack.run.steps import StepContext, step_environment
    ctx = StepContext("r", tmp_path, project, {}, {}, {"STORAGE_S3_SECRET": "sometoken", "A": "1"},
                      ["sometoken"], {"STORAGE_S3_SECRET": ["main-data"]})
    assert "STORAGE_S3_SECRET" in step_environment(program.steps["main-data"], ctx)
    assert "STORAGE_S3_SECRET" not in step_environment(program.steps["main-train"], ctx)


def test_task_command_beside_an_executor_and_task_type_are_named():
    echo = _load("new_echo")
    assert echo.steps["echo"].run == "python train.py"
    assert any("tasks[0].command: not run" in w for w in echo.warnings)
    poetry = _load("poetry")
    assert any("task_type 2 is not used" in w for w in poetry.warnings)
    assert not any("carry no version" in w for w in poetry.warnings)


def test_inline_dataset_task_produces_the_data_a_task_uses(samepack, tmp_path):
    project = shutil.copytree(AME / "dataset-demo", tmp_path / "demo")
    program = load_program(project / "ame.yml", show_warnings=False)
    assert program.steps["dataset1-fetcher"].run == "python produce_data.py"
    assert program.datasets["dataset1"].path == "data"
    # AME's format (lib/ame.proto TaskCfg.dataSets) names used data sets as plain strings:
    text = (project / "ame.yml").read_text() + (
        "tasks:\n  - name: consume\n    executor:\n      !pip\n      pythonVersion: 3.10\n"
        "      command: python -c \"print(open('data/output.txt').read())\"\n"
        "    dataSets:\n      - dataset1\n")
    (project / "ame.yml").write_text(text)
    program = load_program(project / "ame.yml", show_warnings=False)
    assert program.steps["consume"].needs == ["dataset1-fetcher"]
    result = samepack("run", "-f", project / "ame.yml")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "[consume] this is some data" in result.stdout
    assert History().list_runs(limit=1)[0].status == "succeeded"


def test_unknown_dataset_names_the_known_ones(tmp_path):
    from samepack.errors import InputError

    (tmp_path / "ame.yaml").write_text(
        "name: x\ndataSets:\n  - name: mnist\n    path: data\n"
        "tasks:\n  - name: t\n    executor:\n      !pip\n      command: python t.py\n"
        "    dataSets: [minst]\n")
    with pytest.raises(InputError, match=r"ame.yaml:\d+: tasks\[0\].dataSets\[0\]: unknown data set 'minst'"):
        load_program(tmp_path / "ame.yaml")


@pytest.mark.parametrize("project,args,env,expected", [
    ("echo", ["-e", "echo"], {}, "[echo] myoutput"),
    ("env", [], {"VAR1": "mysecretval"}, "[testsecret] validating env:  VAR1 = ***"),
    ("artifacts", [], {}, "step artifact: python artifact.py artifactContents"),
    ("executors/mlflow", [], {}, "[training] np array:  [1 2 3]"),
    ("executors/custom", [], {}, "[training] custom output array:  [1, 2, 3]"),
])
def test_ame_test_projects_run_as_in_ame(samepack, tmp_path, project, args, env, expected):
    from support import require_module

    require_module("numpy")
    copy = shutil.copytree(AME / project, tmp_path / "project")
    result = samepack("run", "-f", copy, *args, env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert expected in result.stdout + result.stderr
    assert History().list_runs(limit=1)[0].status == "succeeded"
    if project == "artifacts":
        assert (copy / "generated" / "myartifact.txt").read_text() == "artifactContents"
