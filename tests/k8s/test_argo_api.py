"""Argo Workflows on a real API server with Argo's CRDs (installed once for this module, removed
by its last test; no Argo controller runs, so Workflows get no status): what samepack submits
while the cluster serves Argo, and that the choice follows the cluster as it is now."""

from __future__ import annotations

import json

import pytest

from samepack.k8s.objects.argo import ARGO_API
from samepack.k8s.api.cluster import Cluster
from tests.k8s.programs import pipeline
from tests.k8s.test_deploy_api import jobs, register

pytestmark = pytest.mark.xdist_group("k8s-api")


@pytest.fixture(scope="module")
def argo(control_plane):
    control_plane.install_argo()
    yield control_plane
    control_plane.remove_argo()  # again, when the last test did not get that far


@pytest.fixture
def deploy(samepack, kube, namespace, monkeypatch):
    monkeypatch.setenv("STORAGE_KEY", "s3cr3t")
    return lambda ref, *options: samepack("deploy", ref, "-n", namespace, *options)


def test_deploy_submits_a_workflow_and_cron_workflows(argo, kube, deploy, namespace, tmp_path):
    ref = register(pipeline(), tmp_path)
    first = deploy(ref)
    assert first.exit_code == 0, first.stderr
    assert "the steps run as one Workflow" in first.stderr
    [workflow] = json.loads(kube.kubectl("-n", namespace, "get", "workflows", "-o", "json"))["items"]
    tasks = workflow["spec"]["templates"][0]["dag"]["tasks"]
    assert tasks[1] == {"name": "train", "template": "train", "dependencies": ["prepare"]}
    [cron] = json.loads(kube.kubectl("-n", namespace, "get", "cronworkflows", "-o", "json"))["items"]
    assert cron["spec"]["schedules"] == ["0 3 * * *"]
    assert jobs(kube, namespace) == {}
    assert kube.kubectl("-n", namespace, "get", "cronjobs", "-o", "name") == ""
    again = deploy(ref)
    assert "deployed pipe:1.0: 0 objects applied" in again.stdout, again.stderr


def _finish_as_argo_would(kube, namespace: str, workflow: dict, messages: dict[str, str],
                          phase: str = "Succeeded") -> None:
    """What Argo's controller and the kubelet would leave: a finished pod per step that ran
    (its ``main`` container's termination message; a step's phase follows its exit code) and
    the Workflow's node statuses and ``phase``."""
    name = workflow["metadata"]["name"]
    nodes, now = {}, "2026-01-01T00:00:00Z"
    for index, (step, message) in enumerate(messages.items()):
        node = f"{name}.{step}"
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": f"{name}-{step}-{index}", "namespace": namespace,
                            "labels": {"workflows.argoproj.io/workflow": name},
                            "annotations": {"workflows.argoproj.io/node-name": node}},
               "spec": {"serviceAccountName": workflow["spec"]["serviceAccountName"],
                        "automountServiceAccountToken": False,
                        "containers": [{"name": "main", "image": "img:1"}]}}
        kube.kubectl("create", "-f", "-", input=json.dumps(pod))
        exit_code = json.loads(message)["exit"]
        step_phase = "Succeeded" if exit_code == 0 else "Failed"
        status = {"status": {"phase": step_phase, "containerStatuses": [{
            "name": "main", "image": "img:1", "imageID": "", "ready": False, "restartCount": 0,
            "state": {"terminated": {"exitCode": exit_code, "message": message,
                                     "startedAt": now, "finishedAt": now}}}]}}
        kube.kubectl("-n", namespace, "patch", "pod", pod["metadata"]["name"],
                     "--subresource=status", "--type=merge", "-p", json.dumps(status))
        nodes[f"{name}-{index}"] = {"id": f"{name}-{index}", "name": node, "displayName": step,
                                    "type": "Pod", "phase": step_phase,
                                    "startedAt": f"2026-01-01T00:00:0{index}Z"}
    kube.kubectl("-n", namespace, "patch", "workflow", name, "--type=merge", "-p",
                 json.dumps({"status": {"phase": phase, "nodes": nodes}}))


def test_run_submits_a_workflow_and_runs_wait_records_what_argo_reports(argo, kube, samepack,
                                                                       namespace, exchange,
                                                                       tmp_path):
    from samepack.program.model import MetricPattern

    program = pipeline(name=namespace, secrets=[], schedule=False)
    program.steps["train"].metrics = [MetricPattern(r"^accuracy: (?P<value>\S+)$", "accuracy")]
    ref = register(program, tmp_path)
    submitted = samepack("run", "--target", "k8s", "--no-wait", "--registry", exchange,
                         "program", ref, "--json")
    assert submitted.exit_code == 0, submitted.stderr
    assert "Argo Workflow" in submitted.stderr
    run_id = json.loads(submitted.stdout)["id"]
    [workflow] = json.loads(kube.kubectl("-n", namespace, "get", "workflows", "-l",
                                         f"samepack.dev/run={run_id[:8]}", "-o", "json"))["items"]
    assert jobs(kube, namespace) == {}  # Argo runs the steps, not Jobs
    train = next(t for t in workflow["spec"]["templates"] if t["name"] == "train")
    env = {e["name"]: e.get("value") for e in train["container"]["env"]}
    assert env["SAMEPACK_OUTPUTS_URL"].endswith(f"/v2/runs/{namespace}/blobs/uploads/")
    weights = "e" * 64
    _finish_as_argo_would(kube, namespace, workflow, {
        "prepare": json.dumps({"exit": 0, "points": [], "tail": "rows: 1599"}),
        "train": json.dumps({"exit": 0, "points": [["accuracy", 0.93, 0]], "tail": "done",
                             "outputs": [["model.pkl", 12, weights, False]], "more": 0})})
    waited = samepack("runs", "wait", run_id[:8], "--timeout", "30", "--json")
    assert waited.exit_code == 0, waited.stderr
    record = json.loads(waited.stdout)
    assert record["status"] == "succeeded" and record["metrics"] == {"accuracy": 0.93}
    assert [(s["name"], s["exit_code"]) for s in record["steps"]] == [("prepare", 0), ("train", 0)]
    assert record["artifacts"] == [{"path": "model.pkl", "size": 12, "sha256": weights,
                                    "kind": "output"}]


def test_a_failed_workflow_collected_later_names_its_steps_and_skips_what_never_ran(
        argo, kube, samepack, namespace, tmp_path):
    """Argo names a step's task by its DNS form (``prep_data`` runs as ``prep-data``); the
    history keeps the program's names, and the steps after a failure are recorded skipped."""
    program = pipeline(name=namespace, secrets=[], schedule=False)
    prepare = program.steps.pop("prepare")
    prepare.name = "prep_data"
    program.steps = {"prep_data": prepare, **program.steps}
    program.steps["train"].needs = ["prep_data"]
    ref = register(program, tmp_path)
    submitted = samepack("run", "--target", "k8s", "--no-wait", "program", ref, "--json")
    assert submitted.exit_code == 0, submitted.stderr
    run_id = json.loads(submitted.stdout)["id"]
    [workflow] = json.loads(kube.kubectl("-n", namespace, "get", "workflows", "-l",
                                         f"samepack.dev/run={run_id[:8]}", "-o", "json"))["items"]
    _finish_as_argo_would(kube, namespace, workflow, {
        "prep-data": json.dumps({"exit": 2, "points": [], "tail": "no such file: raw.csv"})},
        phase="Failed")
    waited = samepack("runs", "wait", run_id[:8], "--timeout", "30", "--json")
    assert waited.exit_code != 0
    shown = json.loads(samepack("runs", "show", run_id[:8], "--json").stdout)
    assert shown["status"] == "failed"
    assert [(s["name"], s["status"], s["exit_code"]) for s in shown["steps"]] == [
        ("prep_data", "failed", 2), ("train", "skipped", None)]


def test_the_choice_follows_the_cluster_as_it_is_now(argo, kube, deploy, namespace, tmp_path):
    cluster = Cluster.connect()
    assert cluster.serves(ARGO_API, "Workflow") and cluster.serves(ARGO_API, "CronWorkflow")
    argo.remove_argo()
    assert not cluster.serves(ARGO_API, "Workflow")  # the same connection: no stale cache
    assert not Cluster.connect().serves(ARGO_API, "Workflow")
    result = deploy(register(pipeline(), tmp_path), "--no-wait")
    assert result.exit_code == 0, result.stderr
    assert "Workflow" not in result.stderr and set(jobs(kube, namespace)) == {"pipe-prepare"}
