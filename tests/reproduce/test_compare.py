"""Comparison verdicts, machine differences and report rendering (pure functions)."""

from __future__ import annotations

import json
import math

import pytest

from samepack.reproduce.compare import Tolerance, compare_runs, metric_verdict
from samepack.reproduce.machines import host_differences, lock_pins, package_differences
from samepack.reproduce.report import ReproReport, render_json, render_markdown

EXACT = Tolerance()

VERDICTS = [
    ("exact match", 0.5, [0.5, 0.5], EXACT, "match"),
    ("tiny difference is a mismatch when exact", 0.5, [0.5000001, 0.5000001], EXACT, "mismatch"),
    ("within rtol", 100.0, [100.5, 100.5], Tolerance(rtol=0.01), "match"),
    ("outside rtol", 100.0, [102.0, 102.0], Tolerance(rtol=0.01), "mismatch"),
    ("atol only", 0.0, [0.001, 0.001], Tolerance(atol=0.01), "match"),
    ("rtol scales the recorded value", 1.0, [1.015, 1.015], Tolerance(rtol=0.01, atol=0.005),
     "match"),
    ("re-runs disagree", 0.5, [0.5, 0.6], EXACT, "non-deterministic"),
    ("re-runs disagree within tolerance", 0.5, [0.5, 0.5001], Tolerance(atol=0.01), "match"),
    ("not logged again", 0.5, [None, None], EXACT, "missing"),
    ("logged once of two", 0.5, [0.5, None], EXACT, "non-deterministic"),
    ("new metric", None, [1.0, 1.0], EXACT, "new"),
    ("nan equals nan", math.nan, [math.nan, math.nan], EXACT, "match"),
    ("inf", math.inf, [math.inf, math.inf], EXACT, "match"),
]


@pytest.mark.parametrize("recorded,reproduced,tolerance,verdict", [c[1:] for c in VERDICTS],
                         ids=[c[0] for c in VERDICTS])
def test_metric_verdicts(recorded, reproduced, tolerance, verdict) -> None:
    assert metric_verdict(recorded, reproduced, tolerance) == verdict


def test_outcomes_and_problems() -> None:
    files = [{"path": "model.json", "size": 3, "sha256": "a" * 64}]
    same = compare_runs({"rmse": 1.0}, files, [({"rmse": 1.0}, files)] * 2, EXACT)
    assert same.outcome == "reproduced" and same.problems() == []
    changed_file = [{"path": "model.json", "size": 3, "sha256": "b" * 64}]
    differs = compare_runs({"rmse": 1.0}, files, [({"rmse": 1.25}, changed_file)] * 2, EXACT)
    assert differs.outcome == "mismatch"
    assert differs.problems() == ["rmse: recorded 1.0, reproduced 1.25, 1.25 (mismatch)",
                                  "model.json: sha256 mismatch"]
    assert differs.metrics[0].difference == 0.25
    noisy = compare_runs({"pi": 3.1}, [], [({"pi": 3.2}, []), ({"pi": 3.14}, [])], EXACT)
    assert noisy.outcome == "non-deterministic"
    failed = compare_runs({"pi": 3.1}, [], [({"pi": 3.1}, [])], EXACT, failed_runs=1)
    assert failed.outcome == "failed"
    assert compare_runs({}, [], [({"new": 1.0}, [])], EXACT).outcome == "nothing-to-compare"


def test_host_and_package_differences() -> None:
    recorded = {"python": "3.10.12", "platform": "linux-64", "cpus": 8, "memory": 16 * 2**30,
                "gpus": [{"name": "A100"}], "hostname": "trainer"}
    here = {"python": "3.11.2", "platform": "linux-64", "cpus": 2, "memory": 4 * 2**30,
            "gpus": [], "hostname": "laptop"}
    rows = [(d.what, d.recorded, d.here) for d in host_differences(recorded, here)]
    assert rows == [("python", "3.10.12", "3.11.2"), ("cpus", "8", "2"),
                    ("memory", "16.0 GiB", "4.0 GiB"), ("gpus", "A100", "-"),
                    ("hostname", "trainer", "laptop")]
    pins = lock_pins("numpy==2.1.0 \\\n    --hash=sha256:aa\nScikit_Learn[x]==1.5.0 ; python_version>'3'\n"
                     "# comment\n-e ./local\n")
    assert pins == {"numpy": "2.1.0", "scikit-learn": "1.5.0"}
    assert [(d.what, d.recorded, d.here) for d in package_differences(
        pins, {"numpy": "2.1.0", "scikit-learn": "1.6.1"})] == [
        ("package scikit-learn", "1.5.0", "1.6.1")]


def test_report_renders_deterministically() -> None:
    comparison = compare_runs({"rmse": 1.0, "r2": 0.5}, [], [({"rmse": 1.0, "r2": 0.4}, [])] * 2,
                              EXACT)
    report = ReproReport(program="wine:1.0", source="wine-1.0.tgz", run_id="abc", params={"a": 1},
                         tolerance=EXACT, environment="current interpreter",
                         comparison=comparison, reruns=["r1", "r2"])
    data = json.loads(render_json(report))
    assert data["outcome"] == "mismatch" and data["repeats"] == 2
    assert data["metrics"][0] == {"name": "r2", "recorded": 0.5, "reproduced": [0.4, 0.4],
                                  "difference": pytest.approx(0.1), "verdict": "mismatch"}
    markdown = render_markdown(report)
    assert "**not reproduced: results differ from the record**" in markdown
    assert "| rmse | 1.0 | 1.0, 1.0 | 0 | match |" in markdown
    assert render_json(report) == render_json(report) and render_markdown(report) == markdown


def test_rerun_takes_only_the_steps_the_record_ran() -> None:
    from samepack.history.records import RunRecord, StepRecord
    from samepack.program.model import Parameter, Program, Step
    from samepack.reproduce.session import recorded_program

    program = Program(name="p", version="1", steps={
        "main": Step("main", "python t.py {params.alpha}"),
        "validate": Step("validate", "python v.py {params.rows}")},
        parameters={"alpha": Parameter("alpha", "float", 0.5), "rows": Parameter("rows", "int", 1)})
    record = RunRecord(id="r", program="p", version="1", params={"alpha": 0.3},
                       steps=[StepRecord("main", 0, None, 1.0)])
    part, params = recorded_program(program, record)
    assert list(part.steps) == ["main"] and params == {"alpha": 0.3}
    whole = RunRecord(id="w", program="p", version="1", params={"alpha": 0.3, "rows": 2},
                      steps=[StepRecord("main", 0, None, 1.0), StepRecord("validate", 0, None, 1.0)])
    assert recorded_program(program, whole) == (program, {"alpha": 0.3, "rows": 2})
