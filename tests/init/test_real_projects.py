"""`samepack init` on real public projects (fixtures/real/, see each README.md): entries given
with arguments, a folder of notebooks, metric patterns for what the code prints."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from samepack.init.printed_metrics import NUMBER
from samepack.program.loader import load_program


def reasons(project: Path, *entries: str) -> dict[str, str]:
    """What init printed as the reason of each field (in-process, unwrapped)."""
    from samepack.commands.init import choose_entries
    from samepack.init import infer_program

    chosen = choose_entries(project, entries, interactive=False)
    return {r.what: r.why for r in infer_program(project, chosen, None, "3.11").reasons}


def written(project: Path) -> dict:
    return yaml.safe_load((project / "samepack.yaml").read_text(encoding="utf-8"))


def values_read(metrics: list[dict], lines: list[str]) -> list[tuple[str, float]]:
    """What the step's metric patterns read from printed ``lines`` (the agreed matching: each
    pattern searched in each line; a 'name' group, else the entry's name)."""
    points = []
    for line in lines:
        for metric in metrics:
            match = re.search(metric["pattern"], line)
            if match:
                name = match.groupdict().get("name") or metric["name"]
                points.append((name, float(match.group("value"))))
    return points


def test_hydra_entry_keeps_its_arguments(fixture_project, samepack) -> None:
    project = fixture_project("real/optuna-hydra")
    result = samepack("init", project, "--entry", "simple.py --multirun")
    assert result.exit_code == 0, result.stderr
    program = written(project)
    assert program["steps"] == {"simple": {"run": "python simple.py --multirun"}}
    assert program["environment"]["lock"] == "requirements.txt"
    assert program["metadata"]["description"] == \
        "Optuna example that optimizes a simple function with Hydra."
    assert "what was inferred" in result.stdout
    assert reasons(project, "simple.py --multirun")["step simple"] == (
        'simple.py:27 has an `if __name__ == "__main__":` block; `--multirun` given with --entry')
    assert load_program(project / "samepack.yaml").steps["simple"].run == \
        "python simple.py --multirun"


def test_printed_best_value_becomes_a_metric_pattern(fixture_project, samepack) -> None:
    project = fixture_project("real/optuna-quadratic")
    result = samepack("init", project)
    assert result.exit_code == 0, result.stderr
    step = written(project)["steps"]["quadratic"]
    assert step["run"] == "python quadratic.py"
    assert [m["name"] for m in step["metrics"]] == ["best_value"]
    assert "what was inferred" in result.stdout
    assert reasons(project)["steps.quadratic.metrics"] == (
        "quadratic.py:24 prints `Best value: {} (params: {})`: each number printed there "
        "becomes a point of metric 'best_value'")
    # the lines the script prints, made with its own format string
    template = "Best value: {} (params: {})\n"
    printed = ["Running 10 trials...", template.format(-0.9973, {"x": 0.05, "y": -1}).strip(),
               template.format(12.5, {"x": 3.6, "y": 0}).strip()]
    assert values_read(step["metrics"], printed) == [("best_value", -0.9973),
                                                     ("best_value", 12.5)]
    loaded = load_program(project / "samepack.yaml").steps["quadratic"].metrics
    assert [(m.name, m.pattern) for m in loaded] == [(m["name"], m["pattern"])
                                                     for m in step["metrics"]]


def test_a_folder_of_notebooks_becomes_a_pipeline(fixture_project, samepack) -> None:
    project = fixture_project("real/statsmodels-notebooks")
    result = samepack("init", project)  # no terminal: every notebook, in path order
    assert result.exit_code == 0, result.stderr
    steps = written(project)["steps"]
    assert list(steps) == ["ols", "predict", "wls"]
    assert steps["ols"]["notebook"] == "ols.ipynb#same_step_0" and steps["ols"]["run"] == "python"
    assert steps["predict"]["needs"] == ["ols"] and steps["wls"]["needs"] == ["predict"]
    # ols prints `print("R2: ", results.rsquared)`: print's separator makes it "R2:  0.93..."
    assert values_read(steps["ols"]["metrics"], ["R2:  0.9334", "Parameters:  [ 1.3  0.1]"]) \
        == [("r2", 0.9334)]
    assert "metrics" not in steps["predict"] and "metrics" not in steps["wls"]
    program = load_program(project / "samepack.yaml")
    assert [s.notebook for s in program.steps.values()] == [
        "ols.ipynb#same_step_0", "predict.ipynb#same_step_0", "wls.ipynb#same_step_0"]


def test_entries_in_the_order_given(fixture_project, samepack) -> None:
    project = fixture_project("real/statsmodels-notebooks")
    result = samepack("init", project, "--entry", "wls.ipynb", "--entry", "ols", "--dry-run")
    assert result.exit_code == 0, result.stderr
    steps = yaml.safe_load(result.stdout)["steps"]
    assert list(steps) == ["wls", "ols"] and steps["ols"]["needs"] == ["wls"]
    assert "needs" not in steps["wls"]


def test_arguments_are_only_for_scripts(fixture_project, samepack) -> None:
    project = fixture_project("real/statsmodels-notebooks")
    result = samepack("init", project, "--entry", "ols.ipynb --fast")
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0] == (
        "error: --entry ols.ipynb: arguments (--fast) are taken only with a script entry")
    assert result.stderr.splitlines()[-1].startswith("hint: set the entry's parameters")
    result = samepack("init", project, "--entry", "ols.ipynb 'unclosed")
    assert result.exit_code == 3 and "check the quoting" in result.stderr
    assert not (project / "samepack.yaml").exists()


def test_a_terminal_picks_several_notebooks_in_the_order_typed(fixture_project) -> None:
    project = fixture_project("real/statsmodels-notebooks")
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "samepack", "init", str(project)],
                                   stdin=terminal, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        os.write(controller, b"3 1\n")
        _, stderr = process.communicate(timeout=120)
    finally:
        os.close(controller)
        os.close(terminal)
    assert process.returncode == 0, stderr
    assert "several in the order they run" in stderr
    steps = written(project)["steps"]
    assert list(steps) == ["wls", "ols"] and steps["ols"]["needs"] == ["wls"]


@pytest.mark.parametrize("line,expected", [
    ("accuracy: 0.93", 0.93), ("accuracy:1e-3", 1e-3), ("accuracy: -.5", -0.5),
    ("accuracy: 12", 12.0)])
def test_the_number_pattern_reads_printed_numbers(line: str, expected: float) -> None:
    match = re.search(rf"accuracy:\s*(?P<value>{NUMBER})", line)
    assert match and float(match.group("value")) == expected


def test_default_none_options_stay_optional(fixture_project, samepack) -> None:
    project = fixture_project("real/statsmodels-export")
    result = samepack("init", project)  # the one script with a __main__ block
    assert result.exit_code == 0, result.stderr
    program = written(project)
    script = "tools/export_notebooks_to_python.py"
    assert program["steps"] == {"export-notebooks-to-python": {
        "run": f"python {script} --full-path={{params.full_path}} --notebook={{params.notebook}}"}}
    assert {name: (p["type"], p["default"], p.get("optional")) for name, p in
            program["parameters"].items()} == {"full_path": ("str", None, True),
                                              "notebook": ("str", None, True)}
    assert program["parameters"]["notebook"]["help"].startswith("Name of a single notebook")
    assert "is required" not in result.stderr and "--force is a switch" in result.stderr
    result = samepack("init", project, "--entry", f"{script} --force", "--dry-run")
    assert yaml.safe_load(result.stdout)["steps"]["export-notebooks-to-python"]["run"] == (
        f"python {script} --force --full-path={{params.full_path}} --notebook={{params.notebook}}")
    result = samepack("init", project, "--entry", f"{script} --notebook wls", "--dry-run")
    assert yaml.safe_load(result.stdout)["parameters"]["notebook"] == {
        "type": "str", "default": "wls",
        "help": program["parameters"]["notebook"]["help"]}  # given: no longer optional
