"""``samepack run --target k8s`` against a real API server. No kubelet runs here, so
``LocalKubelet`` plays it: it runs each pod's step command here, under the very result script
the ConfigMap carries, and reports the exit code and termination message it wrote. What comes
back into the run history is then what a real cluster would bring back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from samepack.history import History
from samepack.program.model import MetricPattern
from samepack.store import Store
from tests.k8s.kubelet import FakeKubelet
from tests.k8s.programs import pipeline

pytestmark = pytest.mark.xdist_group("k8s-api")

ACCURACY = MetricPattern(r"^accuracy: (?P<value>\S+)$", "accuracy")


class LocalKubelet(FakeKubelet):
    """Runs the step container's command on this machine (the result script from the pod's
    ConfigMap, ``python``/``python3`` as this interpreter) and reports what it left."""

    def __init__(self, kube, namespace: str, work: Path):
        super().__init__(str(kube.kubeconfig()), namespace, self.run_pod)
        self.kube, self.work = kube, work

    def run_pod(self, pod: dict):
        container = pod["spec"]["containers"][0]
        config = next(v["configMap"]["name"] for v in pod["spec"]["volumes"] if "configMap" in v)
        script = json.loads(self.kube.kubectl("-n", self.namespace, "get", "configmap", config,
                                              "-o", "json"))["data"]["result.py"]
        (self.work / "result.py").write_text(script)
        argv = [sys.executable if word in ("python", "python3") else word
                for word in container["command"]]
        argv[1] = str(self.work / "result.py")
        log = self.work / f"{pod['metadata']['name']}.termination-log"
        done = subprocess.run(argv, cwd=self.work, capture_output=True, timeout=60,
                              env={**os.environ, "SAMEPACK_TERMINATION_LOG": str(log)})
        return done.returncode, log.read_text()


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
    work = tmp_path / "pods"
    work.mkdir()
    with LocalKubelet(kube, program_name, work):
        result = samepack("run", "--target", "k8s", "program", ref, "--json")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["status"] == "succeeded" and record["metrics"] == {"accuracy": 0.91}
    run = history(lambda h: h.get_run(record["id"]))
    steps = {step.name: step for step in run.steps}
    assert (steps["prepare"].exit_code, steps["train"].exit_code) == (0, 0)
    assert steps["prepare"].log_tail == "rows: 1599"
    assert steps["train"].log_tail.splitlines() == ["epoch 1", "accuracy: 0.5", "accuracy: 0.91"]
    assert [p.value for p in run.metric_series["accuracy"]] == [0.5, 0.91]
    assert run.tags == {"target": "k8s", "namespace": program_name}


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


def test_sigterm_records_the_run_cancelled_and_removes_its_objects(samepack_proc, kube,
                                                                   program_name, tmp_path):
    ref = register(pipeline(name=program_name, secrets=[], schedule=False), tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "samepack", "run", "--target", "k8s",
                                "program", ref], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + 60
        while not kube.kubectl("-n", program_name, "get", "jobs", "-o", "name", check=False).strip():
            assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
            time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
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
