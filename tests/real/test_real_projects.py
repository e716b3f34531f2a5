"""Real public projects (fixtures/real/, none written for samepack) taken the whole way a new
user takes them: ``init → package-env → run → export → import into a fresh SAMEPACK_HOME in
another folder → reproduce``, each ending with the verdict its code deserves.

Real subprocesses, real uv locking and environments (from the public package index), real
bundles. The environments are made by ``run`` itself: nobody runs ``env create`` first."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from support import FIXTURES

pytestmark = [pytest.mark.network, pytest.mark.slow]


@dataclass
class Journey:
    """One project's way through samepack, step by step, in its own folders and stores."""

    root: Path
    project: Path = field(init=False)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.project = self.root / "project"

    def samepack(self, *args: str, home: str = "home", cwd: Path | None = None,
                 ok: bool = True) -> subprocess.CompletedProcess:
        env = {**_clean_env(), "SAMEPACK_HOME": str(self.root / home)}
        done = subprocess.run([sys.executable, "-m", "samepack", *map(str, args)],
                              cwd=cwd or self.project, env=env, capture_output=True, text=True,
                              timeout=900)
        self.log.append(f"$ samepack {' '.join(map(str, args))}\n{done.stdout}\n{done.stderr}")
        if ok:
            assert done.returncode == 0, "\n".join(self.log[-1:])
        return done

    def program(self) -> dict:
        return yaml.safe_load((self.project / "samepack.yaml").read_text())

    def edit_program(self, change) -> None:
        """What a user does by hand in samepack.yaml (never in the project's code)."""
        data = self.program()
        change(data)
        (self.project / "samepack.yaml").write_text(yaml.safe_dump(data, sort_keys=False))

    def last_run(self, home: str = "home") -> dict:
        runs = json.loads(self.samepack("runs", "list", "--json", home=home).stdout)
        return json.loads(self.samepack("runs", "show", runs[0]["id"], "--json", home=home).stdout)

    def travel(self, name: str) -> Path:
        """Export, then import into a fresh store from another folder."""
        bundle = self.root / f"{name}.tgz"
        self.samepack("export", "program", "-n", name, "-o", bundle)
        elsewhere = self.root / "elsewhere"
        elsewhere.mkdir()
        self.samepack("import", bundle, home="home2", cwd=elsewhere)
        return bundle

    def lock_and_run(self, *init_args: str) -> dict:
        """init (with ``init_args``), package-env and a first run; returns the run's record."""
        self.samepack("init", ".", *init_args)
        self.samepack("package-env", ".")
        self.samepack("run", "-f", "samepack.yaml")
        return self.last_run()

    def reproduced_elsewhere(self) -> tuple[subprocess.CompletedProcess, dict]:
        """Export, import into a fresh store in another folder, reproduce there."""
        name = self.program()["metadata"]["name"]
        self.travel(name)
        return self.reproduce(name)

    def reproduce(self, ref: str) -> tuple[subprocess.CompletedProcess, dict]:
        reports = self.root / "reports"
        done = self.samepack("reproduce", ref, "--report-dir", reports, home="home2",
                             cwd=self.root / "elsewhere", ok=False)
        report = json.loads(next(reports.glob("reproduce-*.json")).read_text())
        return done, report


def _clean_env() -> dict:
    """This process's environment without the test virtualenv's marks (steps must not see it)."""
    import os

    env = dict(os.environ)
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "SAMEPACK_DEBUG"):
        env.pop(name, None)
    env["MPLBACKEND"] = "Agg"  # no screen here; the projects call plt.show()
    return env


@pytest.fixture
def journey(tmp_path: Path):
    def start(name: str) -> Journey:
        trip = Journey(tmp_path)
        shutil.copytree(FIXTURES / "real" / name, trip.project)
        return trip

    return start


def _compared(report: dict) -> dict[str, str]:
    items = {m["name"]: m["verdict"] for m in report["metrics"] if m["recorded"] is not None}
    items.update({a["path"]: a["verdict"] for a in report["artifacts"] if a["recorded"] is not None})
    return items


def test_a_script_that_prints_its_results_reproduces(journey):
    """scikit-learn's plot_ols.py: its printed figures are the metrics compared."""
    trip = journey("sklearn-ols")
    trip.samepack("init", ".")  # a script with no __main__ block, found by its module-level work
    assert [step["run"] for step in trip.program()["steps"].values()] == ["python plot_ols.py"]
    trip.samepack("package-env", ".")
    ran = trip.samepack("run", "-f", "samepack.yaml")
    assert "creating the environment from requirements.txt" in ran.stderr
    record = trip.last_run()
    assert record["metrics"] == {"mean_squared_error": 2548.07, "variance_score": 0.47}
    assert record["lock_digest"].startswith("sha256:")
    done, report = trip.reproduced_elsewhere()
    assert done.returncode == 0, done.stderr
    assert report["outcome"] == "reproduced"
    assert _compared(report) == {"mean_squared_error": "match", "variance_score": "match"}


def test_a_seeded_statsmodels_example_reproduces(journey):
    trip = journey("statsmodels-ols")
    assert 0.99 < trip.lock_and_run()["metrics"]["r2"] <= 1
    done, report = trip.reproduced_elsewhere()
    assert done.returncode == 0, done.stderr
    assert report["outcome"] == "reproduced" and _compared(report)["r2"] == "match"


def test_a_hydra_app_reproduces_by_the_files_it_writes(journey):
    """Hydra's tutorial app prints nothing; its run folder's composed config is compared, its
    dated folder names and log are not held against it."""
    trip = journey("hydra-using-config")
    outputs = {a["path"] for a in trip.lock_and_run()["artifacts"]}
    assert any(path.endswith(".hydra/config.yaml") for path in outputs)
    name = trip.program()["metadata"]["name"]
    bundle = trip.travel(name)
    with tarfile.open(bundle) as tar:
        assert not [n for n in tar.getnames() if n.startswith("code/outputs/")]
    done, report = trip.reproduce(name)
    assert done.returncode == 0, done.stderr
    compared = _compared(report)
    assert report["outcome"] == "reproduced"
    assert {"outputs/<time>/<time>/.hydra/config.yaml",
            "outputs/<time>/<time>/.hydra/overrides.yaml"} <= set(compared)
    assert any(path.endswith("my_app.log") for path in report["not_compared"])


def test_an_unseeded_search_is_non_deterministic(journey):
    """optuna-examples' quadratic.py prints its best value; the sampler is not seeded, so the
    re-runs disagree with each other. Its requirements.txt is the authors' own and stays so."""
    trip = journey("optuna-quadratic")
    declared = (trip.project / "requirements.txt").read_text()
    assert "best_value" in trip.lock_and_run()["metrics"]
    assert (trip.project / "requirements.txt").read_text() == declared
    done, report = trip.reproduced_elsewhere()
    assert done.returncode != 0 and "non-deterministic" in done.stderr
    assert report["outcome"] == "non-deterministic"
    assert {m["name"]: m["verdict"] for m in report["metrics"]}["best_value"] == "non-deterministic"


def test_a_notebook_reproduces_by_what_it_prints(journey):
    """statsmodels' OLS notebook, run as a step: the R2 its cells print is compared."""
    trip = journey("statsmodels-notebooks")
    assert 0.99 < trip.lock_and_run("--entry", "ols.ipynb")["metrics"]["r2"] <= 1
    done, report = trip.reproduced_elsewhere()
    assert done.returncode == 0, done.stderr
    assert report["outcome"] == "reproduced" and _compared(report)["r2"] == "match"
    cells = [item for item in _compared(report) if item.startswith("ols.ipynb#cell-")]
    assert len(cells) >= 5  # every cell's output compared (its summaries' dates and times aside)


def test_an_mlflow_project_reproduces_with_what_it_logged(journey):
    """MLflow's logistic-regression example (an MLproject) logs `score` and a model with MLflow
    3: the logged metric reaches the run record from a run-scoped tracking store (no mlflow.db
    in the project), the model's files (mlruns/) are not taken for code, and the score
    reproduces."""
    trip = journey("mlflow-sklearn-logistic")
    record = trip.lock_and_run()
    assert record["metrics"]["score"] == pytest.approx(4 / 6)
    shown = trip.samepack("runs", "show", record["id"])
    assert "score" in shown.stdout
    assert not (trip.project / "mlflow.db").exists()
    name = trip.program()["metadata"]["name"]
    with tarfile.open(trip.travel(name)) as tar:
        assert not [n for n in tar.getnames() if n.startswith("code/mlruns/")]
    done, report = trip.reproduce(name)
    assert done.returncode == 0, done.stderr
    assert report["outcome"] == "reproduced" and _compared(report)["score"] == "match"
