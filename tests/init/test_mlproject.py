"""The MLproject translator: parameters, commands, environments, errors with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from samepack.errors import InputError
from samepack.program.canonical import canonical_yaml
from samepack.program.mlproject import load_mlproject

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def load(tmp_path: Path, text: str, files: dict[str, str] | None = None):
    for name, content in (files or {}).items():
        (tmp_path / name).write_text(content)
    (tmp_path / "MLproject").write_text(text)
    return load_mlproject(tmp_path / "MLproject")


def test_fixture_translates(tmp_path: Path) -> None:
    program = load_mlproject(FIXTURES / "mlflow-example" / "MLproject")
    data = program.to_dict()
    assert data["metadata"] == {"name": "sklearn-elasticnet-wine", "version": "0.0.0"}
    assert data["environment"] == {"python": "3.11"}
    assert data["parameters"] == {
        "alpha": {"type": "float", "default": 0.5}, "l1_ratio": {"type": "float", "default": 0.1},
        "data_file": {"type": "path", "default": "wine-quality.csv"},
        "min_rows": {"type": "int", "default": 10}}
    assert data["steps"] == {
        "main": {"run": "python train.py {params.alpha} {params.l1_ratio} {params.data_file}"},
        "validate": {"run": "python validate.py --data {params.data_file} "
                            "--min-rows {params.min_rows}"}}
    assert program.source_format == "mlproject"
    assert any("python_env.yaml lists dependencies" in w for w in program.warnings)
    assert canonical_yaml(program) == canonical_yaml(load_mlproject(FIXTURES / "mlflow-example"
                                                                    / "MLproject"))


def test_type_clash_renames_and_defaults_merge(tmp_path: Path) -> None:
    program = load(tmp_path, """
name: My Project
docker_env:
  image: mlflow-docker-example
  volumes: ["/tmp:/tmp"]
entry_points:
  main:
    parameters: {n: {type: int, default: 1}, p: string}
    command: "python a.py -n {n} {p}"
  other:
    parameters: {n: float, p: {type: string, default: x}}
    command: "python b.py {n} {p} && echo done"
""")
    assert program.name == "my-project"
    assert program.environment.image == "mlflow-docker-example"
    assert program.parameters["n"].type == "int" and program.parameters["other_n"].type == "float"
    assert program.parameters["p"].default == "x"
    assert program.steps["other"].run == "python b.py {params.other_n} {params.p} && echo done"
    warnings = "\n".join(program.warnings)
    assert "docker_env.volumes: not honoured" in warnings
    assert "shell syntax is not interpreted" in warnings
    assert "this one is 'other_n'" in warnings


BAD = [
    ("no entry points", "name: x\n", "MLproject:1: entry_points: a mapping of entry points is required"),
    ("unknown type", "entry_points:\n  main:\n    parameters:\n      a: {type: tensor}\n"
                     "    command: python a.py {a}\n",
     "MLproject:4: entry_points.main.parameters.a.type: unknown type 'tensor'"),
    ("unknown placeholder", "entry_points:\n  main:\n    command: python a.py {alpha}\n",
     "MLproject:3: entry_points.main.command: unknown parameter 'alpha' in {alpha}"),
    ("missing command", "entry_points:\n  main:\n    parameters: {a: float}\n",
     "MLproject:2: entry_points.main.command: command is required"),
    ("bad default", "entry_points:\n  main:\n    parameters:\n      a: {type: float, default: abc}\n"
                    "    command: python a.py {a}\n",
     "MLproject:4: entry_points.main.parameters.a"),
    ("missing python_env file", "python_env: nope.yaml\nentry_points:\n  main:\n    command: x\n",
     "MLproject:1: python_env: nope.yaml does not exist"),
    ("not a mapping", "- a\n- b\n", "MLproject:1: expected a mapping"),
]


@pytest.mark.parametrize("text,message", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_errors_name_file_line_field(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError) as raised:
        load(tmp_path, text)
    assert raised.value.message.startswith(message), raised.value.message


def test_select_entry_point_keeps_needs_and_used_parameters() -> None:
    from samepack.program.mlproject import select_entry_point
    from samepack.program.model import Parameter, Program, Step

    program = Program(name="p", version="1", steps={
        "prep": Step("prep", "python prep.py {params.rows}"),
        "train": Step("train", "python train.py {params.lr}", needs=["prep"]),
        "other": Step("other", "python other.py {params.path}")},
        parameters={"rows": Parameter("rows", "int", 1), "lr": Parameter("lr", "float", 0.1),
                    "path": Parameter("path", "path", None)})
    chosen = select_entry_point(program, "train")
    assert list(chosen.steps) == ["prep", "train"] and list(chosen.parameters) == ["rows", "lr"]
    assert list(program.steps) == ["prep", "train", "other"]
    with pytest.raises(InputError) as raised:
        select_entry_point(program, "evaluate")
    assert raised.value.hint == "choose one of: prep, train, other"


@pytest.mark.slow
def test_mlproject_runs_through_samepack(fixture_project, samepack) -> None:
    """`samepack run -f MLproject -e main --alpha=...` and a registered MLproject program."""
    from samepack.history import History

    project = fixture_project("mlflow-example")
    result = samepack("run", "-f", project / "MLproject", "-e", "main", "--alpha=0.25")
    assert result.exit_code == 0, result.stderr
    assert samepack("create", "program", "-f", project / "MLproject").exit_code == 0
    result = samepack("run", "program", "sklearn-elasticnet-wine", "-e", "validate",
                      "--min-rows=500")
    assert result.exit_code == 12  # the data set has 240 rows
    history = History()
    failed, main = history.list_runs("sklearn-elasticnet-wine")
    history.close()
    assert main.params == {"alpha": 0.25, "l1_ratio": 0.1, "data_file": "wine-quality.csv"}
    assert main.status == "succeeded" and {"rmse", "mae", "r2"} == set(main.metrics)
    assert [s.name for s in main.steps] == ["main"]
    assert failed.status == "failed" and failed.params == {"data_file": "wine-quality.csv",
                                                           "min_rows": 500}
