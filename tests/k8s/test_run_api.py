"""``samepack run --target k8s`` against a real API server. No kubelet runs here, so
``LocalKubelet`` (tests/k8s/kubelet.py) plays it: it runs each pod's step command here, under
the very result script the ConfigMap carries, and reports the exit code and termination message
it wrote. What comes back into the run history is then what a real cluster would bring back."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from samepack.history import History
from samepack.program.model import MetricPattern
from samepack.store import Store
from tests.k8s.kubelet import LocalKubelet
from tests.k8s.programs import pipeline

pytestmark = pytest.mark.xdist_group("k8s-api")

ACCURACY = MetricPattern(r"^accuracy: (?P<value>\S+)$", "accuracy")


def history(read):
    opened = History()
    try:
        return read(opened)
    finally:
        opened.close()


def register(program, tmp_path) -> str:
    Store().register(program, tmp_path, str(tmp_path / "samepack.yaml"), force=True)
    return program.ref


def printing(name: str, *lines: str, code: int = 0) -> str:
    body = "; ".join(f"print({line!r})" for line in lines)
    return f"python -c \"{body}; raise SystemExit({code})\""


def run_with_kubelet(samepack, kube, program_name: str, tmp_path, *options: str):
    """``samepack run --target k8s OPTIONS program REF --json`` with LocalKubelet playing the
    nodes; the CliResult."""
    work = tmp_path / "pods"
    work.mkdir(exist_ok=True)
    with LocalKubelet(kube, program_name, work):
        return samepack("run", "--target", "k8s", *options, "--json")


@pytest.fixture
def program_name(namespace) -> str:
    return namespace  # runs go to the namespace named after the program


def test_metrics_exit_codes_and_log_tails_come_back_into_the_history(samepack, kube, program_name,
                                                                     tmp_path):
    program = pipeline(name=program_name, secrets=[], schedule=False,
                       prepare=printing("prepare", "rows: 1599"),
                       train=printing("train", "epoch 1", "accuracy: 0.5", "accuracy: 0.91"))
    program.steps["train"].metrics = [ACCURACY]
    ref = register(program, tmp_path)
    result = run_with_kubelet(samepack, kube, program_name, tmp_path, "program", ref)
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["status"] == "succeeded" and record["metrics"] == {"accuracy": 0.91}
    run = history(lambda h: h.get_run(record["id"]))
    steps = {step.name: step for step in run.steps}
    assert (steps["prepare"].exit_code, steps["train"].exit_code) == (0, 0)
    assert steps["prepare"].log_tail == "rows: 1599"
    assert steps["train"].log_tail.splitlines() == ["epoch 1", "accuracy: 0.5", "accuracy: 0.91"]
    assert [p.value for p in run.metric_series["accuracy"]] == [0.5, 0.91]
    assert run.tags == {"target": "k8s", "namespace": program_name, "k8s.context": "local"}


def test_a_failing_step_is_recorded_with_its_exit_code_and_tail(samepack, kube, program_name,
                                                                tmp_path):
    program = pipeline(name=program_name, secrets=[], schedule=False,
                       prepare=printing("prepare", "no such column: quality", code=3))
    ref = register(program, tmp_path)
    work = tmp_path / "pods"
    work.mkdir()
    with LocalKubelet(kube, program_name, work):
        result = samepack("run", "--target", "k8s", "program", ref)
    assert result.exit_code == 12, result.stderr
    assert "[prepare] no such column: quality" in result.stderr
    [run] = history(lambda h: h.list_runs(program_name))
    steps = {step.name: step for step in run.steps}
    assert run.status == "failed"
    assert (steps["prepare"].exit_code, steps["prepare"].status) == (3, "failed")
    assert steps["prepare"].log_tail == "no such column: quality"
    assert steps["train"].status == "skipped"


def test_timeout_records_the_step_failed_and_says_why(samepack, kube, program_name, tmp_path,
                                                      monkeypatch):
    ref = register(pipeline(name=program_name, secrets=[], schedule=False), tmp_path)
    monkeypatch.setenv("SAMEPACK_K8S_TIMEOUT", "3600")
    result = samepack("run", "--target", "k8s", "--timeout", "2", "program", ref)  # flag wins
    assert result.exit_code == 8, result.stderr
    assert "no result after" in result.stderr and "Pending" in result.stderr
    [run] = history(lambda h: h.list_runs(program_name))
    assert run.status == "failed" and [s.status for s in run.steps] == ["failed", "skipped"]


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_an_interrupted_run_is_recorded_cancelled_and_its_objects_removed(samepack_proc, kube,
                                                                         program_name, tmp_path,
                                                                         sent):
    ref = register(pipeline(name=program_name, secrets=[], schedule=False), tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "samepack", "run", "--target", "k8s",
                                "program", ref], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + 60
        while not kube.kubectl("-n", program_name, "get", "jobs", "-o", "name", check=False).strip():
            assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
            time.sleep(0.3)
        process.send_signal(sent)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert "cancelled: removed" in stderr and "Traceback" not in stderr
    [run] = history(lambda h: h.list_runs(program_name))
    assert run.status == "cancelled"
    left = kube.kubectl("-n", program_name, "get", "jobs,configmaps", "-l",
                        f"samepack.dev/run={run.id[:8]}", "-o", "name")
    assert left.strip() == ""


WRITES = ("python -c \"import pathlib; pathlib.Path('model').mkdir(exist_ok=True); "
          "pathlib.Path('model/weights.txt').write_text('w=0.25\\n'); print('accuracy: 0.9')\"")
PREPARES = "python -c \"open('clean.csv', 'w').write('a,b\\n1,2\\n')\""


def writing_program(name: str):
    program = pipeline(name=name, secrets=[], schedule=False, prepare=PREPARES, train=WRITES)
    program.steps["train"].metrics = [ACCURACY]
    return program


def test_output_files_come_back_verified_and_match_a_local_run_of_the_same_program(
        samepack, kube, program_name, exchange, tmp_path):
    import hashlib

    from samepack.k8s.runs.record import outputs_dir
    from samepack.reproduce.compare import compare_artifacts

    project = tmp_path / "project"
    project.mkdir()
    ref = register(writing_program(program_name), project)
    result = run_with_kubelet(samepack, kube, program_name, tmp_path, "--registry", exchange,
                              "program", ref)
    assert result.exit_code == 0, result.stderr
    cluster = json.loads(result.stdout)
    expected = {"clean.csv": b"a,b\n1,2\n", "model/weights.txt": b"w=0.25\n"}
    assert cluster["artifacts"] == [
        {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
         "kind": "output"} for path, data in sorted(expected.items())]
    for path, data in expected.items():  # the files themselves, pulled by digest
        assert (outputs_dir(cluster["id"]) / path).read_bytes() == data
    assert "step train: output files brought back to" in result.stderr

    local = samepack("run", "--env-manager", "local", "program", ref, "--json")
    assert local.exit_code == 0, local.stderr
    local_record = json.loads(local.stdout.splitlines()[-1])  # after the steps' own lines
    verdicts = {c.path: c.verdict for c in compare_artifacts(local_record["artifacts"],
                                                             [cluster["artifacts"]])}
    assert verdicts == {"clean.csv": "match", "model/weights.txt": "match"}
    compared = samepack("runs", "compare", local_record["id"][:8], cluster["id"][:8], "--json")
    assert compared.exit_code == 0, compared.stderr
    rows = {row["name"]: row for row in json.loads(compared.stdout)["rows"]}
    assert rows["accuracy"]["same"] and rows["accuracy"]["values"] == [0.9, 0.9]


def test_without_a_registry_the_outputs_are_named_not_fetched(samepack, kube, program_name,
                                                               tmp_path, monkeypatch):
    from samepack.k8s.runs.record import outputs_dir

    monkeypatch.delenv("SAMEPACK_K8S_REGISTRY", raising=False)
    ref = register(writing_program(program_name), tmp_path)
    result = run_with_kubelet(samepack, kube, program_name, tmp_path, "program", ref)
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert [a["path"] for a in record["artifacts"]] == ["clean.csv", "model/weights.txt"]
    assert not outputs_dir(record["id"]).exists()


def test_no_wait_submits_and_runs_wait_records_the_results_later(samepack, kube, program_name,
                                                                 tmp_path):
    ref = register(writing_program(program_name), tmp_path)
    submitted = samepack("run", "--target", "k8s", "--no-wait", "program", ref, "--json")
    assert submitted.exit_code == 0, submitted.stderr
    record = json.loads(submitted.stdout)
    assert record["status"] == "running" and record["steps"] == []
    short = record["id"][:8]
    assert f"samepack runs wait {short}" in submitted.stderr
    live = json.loads(kube.kubectl("-n", program_name, "get", "jobs", "-l",
                                   f"samepack.dev/run={short}", "-o", "json"))["items"]
    suspended = {job["metadata"]["labels"]["app.kubernetes.io/component"]:
                 bool(job["spec"].get("suspend")) for job in live}
    assert suspended == {"prepare": False, "train": True}  # train waits for prepare

    shown = samepack("runs", "show", short, "--json")  # nothing ran yet: still running
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "running"

    work = tmp_path / "pods"
    work.mkdir()
    with LocalKubelet(kube, program_name, work):
        waited = samepack("runs", "wait", short, "--timeout", "90", "--json")
    assert waited.exit_code == 0, waited.stderr
    done = json.loads(waited.stdout)
    assert done["status"] == "succeeded" and done["metrics"] == {"accuracy": 0.9}
    assert [(s["name"], s["status"], s["exit_code"]) for s in done["steps"]] == [
        ("prepare", "succeeded", 0), ("train", "succeeded", 0)]
    assert [a["path"] for a in done["artifacts"]] == ["clean.csv", "model/weights.txt"]
    again = samepack("runs", "wait", short, "--json")  # an ended run is only shown
    assert again.exit_code == 0 and json.loads(again.stdout)["steps"] == done["steps"]


def test_a_no_wait_run_whose_first_step_fails_skips_the_rest_and_fails(samepack, kube,
                                                                      program_name, tmp_path):
    program = pipeline(name=program_name, secrets=[], schedule=False,
                       prepare=printing("prepare", "no such column: quality", code=3))
    ref = register(program, tmp_path)
    submitted = samepack("run", "--target", "k8s", "--no-wait", "program", ref, "--json")
    assert submitted.exit_code == 0, submitted.stderr
    short = json.loads(submitted.stdout)["id"][:8]
    work = tmp_path / "pods"
    work.mkdir()
    with LocalKubelet(kube, program_name, work):
        waited = samepack("runs", "wait", short, "--timeout", "90")
    assert waited.exit_code == 12, waited.stderr
    [run] = history(lambda h: h.list_runs(program_name))
    assert run.status == "failed"
    assert [(s.name, s.status, s.exit_code) for s in run.steps] == [
        ("prepare", "failed", 3), ("train", "skipped", None)]
    assert "[prepare] no such column: quality" in waited.stderr


def test_cluster_options_are_refused_where_they_do_not_apply_or_are_malformed(samepack, tmp_path):
    ref = register(pipeline(name="opts", secrets=[], schedule=False), tmp_path)
    local = samepack("run", "--no-wait", "program", ref)
    assert local.exit_code != 0 and "--no-wait: applies to --target k8s only" in local.stderr
    bad = samepack("run", "--target", "k8s", "--registry", "https://127.0.0.1:5000/x", "program", ref)
    assert bad.exit_code != 0 and "--registry: not a registry reference" in bad.stderr
    assert "Traceback" not in bad.stderr and "hint: give --registry oci://" in bad.stderr
    versioned = samepack("run", "--target", "k8s", "--registry", "oci://127.0.0.1:5000/x:1",
                         "program", ref)
    assert versioned.exit_code != 0 and "names a version" in versioned.stderr
    assert history(lambda h: h.list_runs("opts")) == []  # nothing recorded


def test_a_run_is_collected_through_the_context_it_was_submitted_from(samepack, kube,
                                                                     program_name, tmp_path,
                                                                     monkeypatch):
    """Switching kubeconfig's current context after --no-wait does not send the collection to
    another cluster; a kubeconfig without that context is one clear line."""
    import socket

    import yaml

    ref = register(writing_program(program_name), tmp_path)
    submitted = samepack("run", "--target", "k8s", "--no-wait", "program", ref, "--json")
    assert submitted.exit_code == 0, submitted.stderr
    record = json.loads(submitted.stdout)
    assert record["tags"]["k8s.context"] == "local"
    short = record["id"][:8]

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    config = yaml.safe_load(kube.kubeconfig().read_text())
    config["clusters"].append({"name": "elsewhere",
                               "cluster": {"server": f"https://127.0.0.1:{closed}"}})
    config["contexts"].append({"name": "elsewhere",
                               "context": {"cluster": "elsewhere", "user": "admin"}})
    config["current-context"] = "elsewhere"
    switched = tmp_path / "switched-kubeconfig"
    switched.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("KUBECONFIG", str(switched))
    work = tmp_path / "pods"
    work.mkdir()
    with LocalKubelet(kube, program_name, work):
        waited = samepack("runs", "wait", short, "--timeout", "90", "--json")
    assert waited.exit_code == 0, waited.stderr
    assert json.loads(waited.stdout)["status"] == "succeeded"

    second = samepack("run", "--target", "k8s", "--no-wait", "program", ref, "--json",
                      env={"KUBECONFIG": str(kube.kubeconfig())})
    assert second.exit_code == 0, second.stderr
    config["contexts"] = [c for c in config["contexts"] if c["name"] != "local"]
    switched.write_text(yaml.safe_dump(config))
    shown = samepack("runs", "wait", json.loads(second.stdout)["id"][:8], "--timeout", "5")
    assert shown.exit_code != 0
    assert "has no context 'local'" in shown.stderr and "Traceback" not in shown.stderr


def test_output_files_reach_an_exchange_registry_that_wants_a_login(
        samepack, kube, program_name, login_registry, tmp_path, monkeypatch):
    """This machine's login goes to the pods as a Secret they read by reference: the step's
    upload answers the registry's Basic challenge, and the password is in no rendered object,
    no log and no history row."""
    from tests.k8s.conftest import REGISTRY_PASSWORD, REGISTRY_USER
    from samepack.k8s.runs.record import outputs_dir
    from samepack.paths import samepack_home

    monkeypatch.setenv("SAMEPACK_REGISTRY_USER", REGISTRY_USER)
    monkeypatch.setenv("SAMEPACK_REGISTRY_PASSWORD", REGISTRY_PASSWORD)
    ref = register(writing_program(program_name), tmp_path)
    result = run_with_kubelet(samepack, kube, program_name, tmp_path, "--registry",
                              f"oci://{login_registry.host}/runs/{program_name}", "program", ref)
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert (outputs_dir(record["id"]) / "model/weights.txt").read_bytes() == b"w=0.25\n"

    secret = json.loads(kube.kubectl("-n", program_name, "get", "secret", f"{program_name}-registry",
                                     "-o", "json"))
    assert secret["data"]["auth"]  # the login, base64, only in the Secret
    jobs = kube.kubectl("-n", program_name, "get", "jobs", "-o", "json")
    assert f"{program_name}-registry" in jobs and REGISTRY_PASSWORD not in jobs
    assert REGISTRY_PASSWORD not in result.stdout + result.stderr
    for database in samepack_home().rglob("*.sqlite*"):
        assert REGISTRY_PASSWORD.encode() not in database.read_bytes()


def test_without_a_login_the_outputs_are_named_and_the_run_still_records(
        samepack, kube, program_name, login_registry, tmp_path):
    ref = register(writing_program(program_name), tmp_path)
    result = run_with_kubelet(samepack, kube, program_name, tmp_path, "--registry",
                              f"oci://{login_registry.host}/runs/{program_name}", "program", ref)
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert [a["path"] for a in record["artifacts"]] == ["clean.csv", "model/weights.txt"]
    assert f"step prepare: 1 output files not uploaded to {login_registry.host} (clean.csv" \
        in result.stderr
    assert f"samepack login {login_registry.host}" in result.stderr
