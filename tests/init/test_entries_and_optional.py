"""Several --entry as dependent steps, arguments given with an entry, options whose default is
None as optional parameters (written, loaded and run), and the program fields init writes
(``steps.*.metrics``, ``parameters.*.optional``)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

from samepack.errors import InputError
from samepack.program import load_program
from samepack.program.model import Parameter, Program, Step
from samepack.program.values import substitute_words
from samepack.run.params import resolve_params

PREPARE = '''"""Split the data."""
import argparse
import json
import sys

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="data/points.csv")
    p.add_argument("--seed", type=int, default=None, help="shuffle seed; unshuffled when absent")
    p.add_argument("--limit", type=int)
    args = p.parse_args()
    with open("prepare-argv.json", "w") as f:
        json.dump(sys.argv[1:], f)
    print(f"rows: {10 if args.limit is None else args.limit}")
'''

TRAIN = '''import argparse

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="data/points.csv")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    for epoch in range(2):
        print(f"epoch {epoch}: loss={1 / (epoch + 1)}")
    print(f"accuracy: {0.93}")
'''


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    root = tmp_path / "pipeline"
    (root / "data").mkdir(parents=True)
    (root / "data" / "points.csv").write_text("x,y\n1,2\n")
    (root / "prepare.py").write_text(PREPARE)
    (root / "train.py").write_text(TRAIN)
    return root


def test_entries_become_dependent_steps_in_order(pipeline: Path, samepack) -> None:
    result = samepack("init", pipeline, "--entry", "prepare.py", "--entry",
                      "train.py --epochs 3 --verbose")
    assert result.exit_code == 0, result.stderr
    program = yaml.safe_load((pipeline / "samepack.yaml").read_text())
    assert program["steps"]["prepare"]["run"] == (
        "python prepare.py --data {params.data} --seed={params.seed} --limit={params.limit}")
    assert program["steps"]["train"]["run"] == (
        "python train.py --verbose --data {params.data} --seed {params.train_seed} "
        "--epochs {params.epochs}")
    assert program["steps"]["train"]["needs"] == ["prepare"]
    assert "needs" not in program["steps"]["prepare"]
    params = program["parameters"]
    # one --data feeds both scripts; train's --seed differs from prepare's and is renamed
    assert params["data"] == {"type": "str", "default": "data/points.csv"}
    assert params["seed"] == {"type": "int", "default": None, "optional": True,
                              "help": "shuffle seed; unshuffled when absent"}
    assert params["train_seed"] == {"type": "int", "default": 7}
    assert params["epochs"] == {"type": "int", "default": 3}  # given with --entry
    assert list(program["datasets"]) == ["points"]
    assert program["metadata"]["description"] == "Split the data."
    assert [m.get("name") for m in program["steps"]["train"]["metrics"]] == ["loss", "accuracy"]
    assert [m["name"] for m in program["steps"]["prepare"]["metrics"]] == ["rows"]
    assert "is required" not in result.stderr  # optional parameters need no value


def test_optional_parameters_are_left_out_until_given(pipeline: Path, samepack,
                                                      samepack_proc) -> None:
    assert samepack("init", pipeline, "--entry", "prepare.py").exit_code == 0
    result = samepack_proc("run", "-f", pipeline / "samepack.yaml", cwd=pipeline, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads((pipeline / "prepare-argv.json").read_text()) == [
        "--data", "data/points.csv"]
    result = samepack_proc("run", "-f", pipeline / "samepack.yaml", "--seed=3", cwd=pipeline,
                           timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads((pipeline / "prepare-argv.json").read_text()) == [
        "--data", "data/points.csv", "--seed=3"]


def test_a_missing_data_file_is_not_recorded(pipeline: Path, samepack) -> None:
    (pipeline / "prepare.py").write_text(PREPARE.replace('"data/points.csv"',
                                                         '"data/missing.csv"'))
    assert samepack("init", pipeline, "--entry", "prepare.py", "--entry", "train.py").exit_code == 0
    datasets = yaml.safe_load((pipeline / "samepack.yaml").read_text())["datasets"]
    assert [d["path"] for d in datasets.values()] == ["data/points.csv"]  # train.py's, existing


def test_arguments_set_defaults_and_the_rest_stays_in_the_command(fixture_project,
                                                                   samepack) -> None:
    project = fixture_project("argparse-script")
    result = samepack("init", project, "--entry",
                      "train.py --epochs=3 --optimizer momentum --normalize --epochs-extra 1",
                      "--dry-run")
    assert result.exit_code == 0, result.stderr
    program = yaml.safe_load(result.stdout)
    run = program["steps"]["train"]["run"]
    assert run.startswith("python train.py --normalize --epochs-extra 1 --data {params.data}")
    assert program["parameters"]["epochs"]["default"] == 3
    assert program["parameters"]["optimizer"]["default"] == "momentum"
    result = samepack("init", project, "--entry", "train.py --optimizer adam", "--dry-run")
    program = yaml.safe_load(result.stdout)  # not one of the choices: kept as written
    assert program["parameters"]["optimizer"]["default"] == "sgd"
    assert program["steps"]["train"]["run"].startswith("python train.py --optimizer adam ")


def test_same_step_names_are_made_unique(tmp_path: Path, samepack) -> None:
    root = tmp_path / "two"
    for folder in ("a", "b"):
        (root / folder).mkdir(parents=True)
        (root / folder / "train.py").write_text("print('x')\n")
    result = samepack("init", root, "--entry", "a/train.py", "--entry", "b/train.py",
                      "--dry-run")
    assert result.exit_code == 0, result.stderr
    steps = yaml.safe_load(result.stdout)["steps"]
    assert steps == {"train": {"run": "python a/train.py"},
                     "train-2": {"run": "python b/train.py", "needs": ["train"]}}


# ---- the program fields init writes ------------------------------------------------------

PROGRAM = """\
apiVersion: samepack.dev/v1
kind: Program
metadata: {name: demo, version: "1.0"}
parameters:
  seed: {type: int, default: null, optional: true}
  epochs: {type: int, default: null}
steps:
  train:
    run: python train.py --seed={params.seed} --epochs {params.epochs}
    metrics:
    - pattern: '^accuracy: (?P<value>\\S+)$'
      name: accuracy
    - pattern: '^(?P<name>\\w+)=(?P<value>\\S+)$'
"""


def test_metrics_and_optional_load_and_write_back(tmp_path: Path) -> None:
    path = tmp_path / "samepack.yaml"
    path.write_text(PROGRAM)
    program = load_program(path)
    train = program.steps["train"]
    assert [(m.pattern, m.name) for m in train.metrics] == [
        (r"^accuracy: (?P<value>\S+)$", "accuracy"), (r"^(?P<name>\w+)=(?P<value>\S+)$", None)]
    assert program.parameters["seed"].optional and not program.parameters["seed"].required
    assert program.parameters["epochs"].required
    assert program.to_dict()["steps"]["train"]["metrics"] == yaml.safe_load(PROGRAM)[
        "steps"]["train"]["metrics"]
    assert program.to_dict()["parameters"]["seed"] == {"type": "int", "default": None,
                                                       "optional": True}


@pytest.mark.parametrize("metric,field,words", [
    ("{pattern: '(unclosed'}", "steps.train.metrics[0].pattern", "not a valid regular expression"),
    ("{pattern: 'accuracy: (\\S+)', name: accuracy}", "steps.train.metrics[0].pattern",
     "has no (?P<value>...) group"),
    ("{pattern: 'accuracy: (?P<value>\\S+)'}", "steps.train.metrics[0].pattern",
     "has no (?P<name>...) group and the entry no 'name'"),
    ("{pattern: 'x (?P<value>\\S+)', label: x}", "steps.train.metrics[0].label", "unknown field"),
])
def test_bad_metric_patterns_name_the_field(tmp_path: Path, metric: str, field: str,
                                            words: str) -> None:
    path = tmp_path / "samepack.yaml"
    path.write_text(textwrap.dedent(f"""\
        apiVersion: samepack.dev/v1
        kind: Program
        metadata: {{name: demo, version: "1.0"}}
        steps:
          train:
            run: python train.py
            metrics:
            - {metric}
        """))
    with pytest.raises(InputError) as raised:
        load_program(path)
    assert raised.value.message.startswith(f"samepack.yaml:8: {field}: "), raised.value.message
    assert words in raised.value.message


def test_runner_leaves_out_unset_optional_words() -> None:
    program = Program(name="demo", version="1", steps={"s": Step(name="s", run="x")},
                      parameters={"seed": Parameter("seed", "int", optional=True),
                                  "epochs": Parameter("epochs", "int", default=2),
                                  "data": Parameter("data", "str")})
    with pytest.raises(InputError, match="parameter --data has no default and was not given"):
        resolve_params(program, {})
    values = resolve_params(program, {"data": "d.csv"})
    assert values == {"data": "d.csv", "epochs": 2, "seed": None}
    words = ["python", "t.py", "--seed={params.seed}", "--epochs", "{params.epochs}",
             "{params.data}"]
    assert substitute_words(words, {"params": values}) == [
        "python", "t.py", "--epochs", "2", "d.csv"]
    values = resolve_params(program, {"data": "d.csv", "seed": "5"})
    assert substitute_words(words, {"params": values}) == [
        "python", "t.py", "--seed=5", "--epochs", "2", "d.csv"]


def test_pod_commands_leave_out_unset_optional_words() -> None:
    from samepack.k8s.objects.params import resolve_params as pod_params, step_command

    step = Step(name="s", run="python t.py --seed={params.seed} --epochs {params.epochs}")
    program = Program(name="demo", version="1", steps={"s": step},
                      parameters={"seed": Parameter("seed", "int", optional=True),
                                  "epochs": Parameter("epochs", "int", default=2)})
    assert step_command(program, step, pod_params(program, {})) == [
        "python", "t.py", "--epochs", "2"]
    assert step_command(program, step, pod_params(program, {"seed": "4"})) == [
        "python", "t.py", "--seed=4", "--epochs", "2"]


def test_an_option_value_that_does_not_fit_stays_with_its_option() -> None:
    from samepack.init.entry_args import apply_entry_args
    from samepack.init.params import extract_parameters

    found = extract_parameters('import argparse\np = argparse.ArgumentParser()\n'
                               'p.add_argument("data")\n'
                               'p.add_argument("--optimizer", choices=["sgd", "adam"], '
                               'default="sgd")\n')
    applied = apply_entry_args(found.passed, ["--optimizer", "lbfgs", "train.csv", "x=1"])
    assert applied.literal == ["--optimizer", "lbfgs", "x=1"]
    assert applied.defaults == [("data", "train.csv")]
    assert [p.default for p in found.passed] == ["train.csv", "sgd"]
