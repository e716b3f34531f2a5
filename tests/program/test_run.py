"""``samepack run``: parameters, secrets, datasets, preflight, failures, and the history."""

from __future__ import annotations

import hashlib
import http.server
import json
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

import pytest

from samepack.history import History
from support import require_module
from tests.program.helpers import LOG_METRIC, py, step, write_program


def _last_run() -> "object":
    return History().list_runs(limit=1)[0]


def test_wine_quality_end_to_end(samepack, fixture_project):
    require_module("sklearn")
    require_module("pandas")
    project = fixture_project("wine-quality")
    created = samepack("create", "program", "-f", project / "samepack.yaml")
    assert created.exit_code == 0, created.stderr
    result = samepack("run", "program", "wine-quality", "--alpha=0.3")
    assert result.exit_code == 0, result.stderr
    assert "[train] ElasticNet model (alpha=0.300000" in result.stdout
    record = _last_run()
    assert f"run {record.id} succeeded" in result.stdout
    assert record.params == {"alpha": 0.3, "l1_ratio": 0.5, "seed": 42}
    assert set(record.metrics) == {"mae", "r2", "rmse"} and record.metrics["rmse"] > 0
    outputs = {a["path"] for a in record.artifacts}
    assert "model.json" in outputs and outputs <= {"model.json", "mlflow/model.json"}
    assert f"{len(outputs)} artifact(s) in" in result.stdout
    # logged both to $SAMEPACK_METRICS and (with MLflow installed) to MLflow: counted once
    assert all(len(record.metric_series[name]) == 1 for name in ("mae", "r2", "rmse"))
    assert record.steps[0].status == "succeeded" and record.steps[0].exit_code == 0
    # requirements.txt is hand-written (no hashes): no lock made the environment
    assert record.host["cpus"] >= 1 and record.lock_digest is None
    assert record.tags["env_manager"] == "local" and "has no lock" in result.stderr
    listed = samepack("runs", "list", "--json")
    assert json.loads(listed.stdout)[0]["params"]["alpha"] == 0.3
    shown = samepack("runs", "show", record.id[:7])
    assert "alpha" in shown.stdout and "rmse" in shown.stdout


@pytest.mark.parametrize("target,args,env,metric", [
    ("same-notebook/same.yaml", ["--epochs", "4"], {}, ("loss", 1 / (1 + 4 * 0.2))),
    ("same-embedded/embedded.ipynb", ["--greeting=howdy"], {}, ("chars", 5)),
    ("same-multienv", [], {}, ("step1", 2)),
    ("ame-v1/ame.yaml", [], {"STORAGE_S3_SECRET": "s3cr3t-value"}, ("accuracy", 0.9)),
    ("ame-v2", [], {"BLOB_KEY": "blob-secret"}, ("mean", 2.0)),
])
def test_legacy_programs_run(samepack, fixture_project, target, args, env, metric):
    legacy = fixture_project("legacy")
    result = samepack("run", "-f", legacy / target, *args, env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    record = _last_run()
    assert record.status == "succeeded"
    assert record.metrics[metric[0]] == pytest.approx(metric[1], rel=1e-3)
    for value in env.values():  # secrets never show
        assert value not in result.stdout + result.stderr
        assert value not in json.dumps(record.to_dict())


def test_notebook_parameters_are_injected(samepack, fixture_project):
    legacy = fixture_project("legacy")
    result = samepack("run", "-f", legacy / "same-notebook", "--epochs=9", "--learning-rate", "0.5")
    assert result.exit_code == 0, result.stderr
    assert "[same_step_0] prepare: epochs 9" in result.stdout
    assert "[same_step_1] train: learning_rate 0.5" in result.stdout
    assert (legacy / "same-notebook" / "prepared.txt").read_text() == "9"


def test_missing_secret_fails_before_anything_runs(samepack, fixture_project, monkeypatch):
    monkeypatch.delenv("STORAGE_S3_SECRET", raising=False)
    legacy = fixture_project("legacy")
    result = samepack("run", "-f", legacy / "ame-v1")
    assert result.exit_code == 3
    assert "secret 's3secret' is not set" in result.stderr and "STORAGE_S3_SECRET" in result.stderr
    assert History().list_runs() == []
    assert not (legacy / "ame-v1" / "prepared.json").exists()


def test_unknown_parameter_and_bad_type(samepack, tmp_path):
    path = write_program(tmp_path, "parameters:\n  epochs: {type: int, default: 1}\n"
                                   "  rate: {type: float, default: 0.1}\nsteps:\n  a: {run: python -V}\n")
    unknown = samepack("run", "-f", path, "--epoch=3")
    assert unknown.exit_code == 3
    assert "unknown parameter --epoch" in unknown.stderr and "--epochs, --rate" in unknown.stderr
    bad = samepack("run", "-f", path, "--epochs", "many")
    assert bad.exit_code == 3 and "parameter --epochs: expected an int" in bad.stderr
    assert History().list_runs() == []


def test_failed_step_skips_dependents_only(samepack, tmp_path):
    body = ("steps:\n" + step("bad", py("import sys; print(1); sys.exit(3)"))
            + step("after", py("print(2)"), needs=["bad"]) + step("other", py(LOG_METRIC % ("x", 1))))
    path = write_program(tmp_path, body)
    result = samepack("run", "-f", path)
    assert result.exit_code == 12
    assert "step bad exited with code 3; skipped: after" in result.stderr
    record = _last_run()
    assert record.status == "failed"
    assert {s.name: s.status for s in record.steps} == {"bad": "failed", "after": "skipped",
                                                       "other": "succeeded"}
    assert record.metrics == {"x": 1.0}


def test_dataset_checksum_mismatch(samepack, fixture_project):
    project = fixture_project("wine-quality")
    with open(project / "data" / "winequality-red.csv", "a") as handle:
        handle.write("tampered\n")
    result = samepack("run", "-f", project, "--ignore-resources")
    assert result.exit_code == 7
    assert "dataset wine" in result.stderr
    assert History().list_runs() == []


@pytest.fixture
def http_dir(tmp_path):
    """A directory served over HTTP on 127.0.0.1 (stopped after the test)."""
    root = tmp_path / "served"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_remote_dataset_downloaded_and_verified(samepack, tmp_path, http_dir):
    root, base = http_dir
    (root / "numbers.csv").write_text("1\n2\n3\n")
    digest = hashlib.sha256(b"1\n2\n3\n").hexdigest()
    code = "import sys; print(sum(int(x) for x in open(sys.argv[1])))"
    body = (f"datasets:\n  numbers: {{uri: '{base}/numbers.csv', sha256: '{digest}', size: 6}}\n"
            "steps:\n" + step("add", py(code) + " {datasets.numbers}"))
    path = write_program(tmp_path / "p", body)
    result = samepack("run", "-f", path)
    assert result.exit_code == 0, result.stderr
    assert "[add] 6" in result.stdout
    wrong = write_program(tmp_path / "p", body.replace(digest, "0" * 64))  # the file edited
    failed = samepack("run", "-f", wrong)
    assert failed.exit_code == 7 and "sha256" in failed.stderr


def test_preflight_reports_what_falls_short(samepack, tmp_path):
    path = write_program(tmp_path, "steps:\n  big: {run: python -V, resources: {cpu: 4096, gpus: 2}}\n")
    result = samepack("run", "-f", path)
    assert result.exit_code == 9
    assert "step big needs 4096 CPUs, this machine has" in result.stderr
    assert "--ignore-resources" in result.stderr
    assert samepack("run", "-f", path, "--ignore-resources").exit_code == 0


def test_step_environment_contract(samepack, tmp_path, samepack_home):
    code = ("import os, sys, json; print(json.dumps({k: v for k, v in os.environ.items() "
            "if k.startswith('SAMEPACK_')})); print('EXE', sys.executable)")
    body = ("parameters:\n  rate: {type: float, default: 0.5}\n"
            "env: {GREETING: hi}\n"
            "steps:\n" + step("show", py(code), env={"RATE": "{params.rate}"}))
    path = write_program(tmp_path, body)
    result = samepack("run", "-f", path, "--rate=0.25")
    assert result.exit_code == 0, result.stderr
    line = next(l for l in result.stdout.splitlines() if l.startswith("[show] {"))
    env = json.loads(line[len("[show] "):])
    record = _last_run()
    assert env["SAMEPACK_RUN_ID"] == record.id and env["SAMEPACK_PARAM_RATE"] == "0.25"
    assert env["SAMEPACK_METRICS"].endswith("show.jsonl") and Path(env["SAMEPACK_ARTIFACTS"]).is_dir()
    exe = next(l for l in result.stdout.splitlines() if l.startswith("[show] EXE"))
    assert exe == f"[show] EXE {sys.executable}"  # `python` is the chosen interpreter


def test_run_needs_a_program(samepack):
    result = samepack("run", "wine-quality")
    assert result.exit_code == 3 and "samepack run program NAME" in result.stderr
    missing = samepack("run", "program", "nope")
    assert missing.exit_code == 4 and "nope is not registered" in missing.stderr


SIX_LOCK = ("six==1.16.0 \\\n    --hash=sha256:"
            "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254\n")


def test_steps_run_in_the_environment_made_from_the_lock(samepack, tmp_path):
    """First run makes the environment from the hashed lock under $SAMEPACK_HOME/envs, later
    runs reuse it, a changed lock gives a new one, and --env-manager local is the current
    interpreter on purpose; the record's lock digest is the lock that made the environment."""
    import hashlib
    import sys

    project = tmp_path / "project"
    where = py("import sys, importlib.util as u; print('PREFIX', sys.prefix, "
               "__import__('six').__version__ if u.find_spec('six') else 'none')")
    path = write_program(project, "environment: {lock: requirements.txt}\nsteps:\n" + step("where", where))
    (project / "requirements.txt").write_text(SIX_LOCK)
    first = samepack("run", "-f", path)
    assert first.exit_code == 0, first.stderr
    assert "creating the environment from requirements.txt (1 packages)" in first.stderr
    prefix = first.stdout.split("[where] PREFIX ")[1].split()[0]
    assert Path(prefix).parent.name == "envs" and prefix != sys.prefix
    assert "1.16.0" in first.stdout
    digest = "sha256:" + hashlib.sha256(SIX_LOCK.encode()).hexdigest()
    assert _last_run().lock_digest == digest and "env_manager" not in _last_run().tags

    again = samepack("run", "-f", path)
    assert again.exit_code == 0 and "creating the environment" not in again.stderr
    assert f"[where] PREFIX {prefix} " in again.stdout
    # the record names the environment's Python, as the environment's interpreter says it
    version = subprocess.run([str(Path(prefix) / "bin" / "python"), "-c",
                              "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert _last_run().host["python"] == version

    (project / "requirements.txt").write_text("# relocked\n" + SIX_LOCK)
    relocked = samepack("run", "-f", path)
    assert "creating the environment" in relocked.stderr
    assert f"[where] PREFIX {prefix} " not in relocked.stdout
    assert _last_run().lock_digest != digest

    local = samepack("run", "-f", path, "--env-manager", "local")
    assert local.exit_code == 0 and f"[where] PREFIX {sys.prefix} " in local.stdout
    assert _last_run().tags["env_manager"] == "local" and _last_run().lock_digest is None


def test_a_step_that_cannot_start_fails_the_run(samepack, tmp_path):
    path = write_program(tmp_path, "steps:\n" + step("ghost", "no-such-command-here --x")
                         + step("after", "python -V", needs=["ghost"]))
    result = samepack("run", "-f", path)
    assert result.exit_code == 12
    assert "command not found: no-such-command-here" in result.stderr
    assert "step ghost could not start; skipped: after" in result.stderr
    record = _last_run()
    assert record.status == "failed"
    assert [(s.name, s.status) for s in record.steps] == [("ghost", "failed"), ("after", "skipped")]


def test_file_uri_dataset(samepack, tmp_path):
    source = tmp_path / "shared data" / "numbers.csv"
    source.parent.mkdir()
    source.write_text("4\n5\n")
    code = "import sys; print(sum(int(x) for x in open(sys.argv[1])))"
    body = (f"datasets:\n  numbers: {{uri: '{source.as_uri()}', size: 4}}\n"
            "steps:\n" + step("add", py(code) + " {datasets.numbers}"))
    result = samepack("run", "-f", write_program(tmp_path / "p", body))
    assert result.exit_code == 0, result.stderr
    assert "[add] 9" in result.stdout
