"""The deploy layer without a cluster: the pure planning it relies on, and the CLI's one-line
errors when there is no cluster to talk to (the paths that talk to one are tested against a real
API server in test_*_api.py)."""

from __future__ import annotations

import json

import base64
from pathlib import Path

import pytest

from samepack.k8s import render_manifests, validate_manifests
from samepack.k8s.apply.plan import object_diff, retarget, split_dry_run
from samepack.k8s.objects.secrets import secret_objects
from samepack.k8s.api.status import job_verdict, workflow_verdict
from samepack.program.model import SecretRef
from samepack.store import Store
from tests.k8s.programs import single_step, wine_quality


def test_secrets_come_from_the_environment_as_base64_data():
    program = wine_quality()
    program.secrets.append(SecretRef("storage-key", "STORAGE_REGION", key="region"))
    plan = secret_objects(program, "ml", {"STORAGE_KEY": "s3cr3t", "STORAGE_REGION": "eu"})
    assert plan.missing == []
    [secret] = plan.objects
    assert secret["metadata"]["name"] == "storage-key" and "stringData" not in secret
    assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == {
        "STORAGE_KEY": "s3cr3t", "region": "eu"}
    validate_manifests(plan.objects)


def test_secret_without_a_value_is_reported_missing():
    plan = secret_objects(wine_quality(), "ml", {})
    assert plan.objects == [] and [ref.env for ref in plan.missing] == ["STORAGE_KEY"]


def test_retarget_moves_every_namespaced_object():
    moved = retarget(render_manifests(wine_quality(), image="img:1"), "team-b")
    assert moved[0]["kind"] == "Namespace" and moved[0]["metadata"]["name"] == "team-b"
    assert {obj["metadata"]["namespace"] for obj in moved[1:]} == {"team-b"}
    validate_manifests(moved)


def test_dry_run_goes_to_the_server_only_for_what_it_can_check():
    objects = render_manifests(wine_quality(), image="img:1")
    server, local = split_dry_run(objects, namespace_exists=False)
    assert [obj["kind"] for obj in server] == ["Namespace"]
    assert len(local) == len(objects) - 1
    assert split_dry_run(objects, namespace_exists=True) == (objects, [])


def test_diff_ignores_what_the_server_adds_and_shows_real_changes():
    [config] = [o for o in render_manifests(wine_quality(), image="img:1")
                if o["metadata"]["name"] == "wine-quality-program"]
    live = {**config, "metadata": {**config["metadata"], "uid": "1", "resourceVersion": "9",
                                   "managedFields": [{"manager": "samepack"}]}}
    assert object_diff(live, config) == ""
    changed = render_manifests(wine_quality(), image="img:1", params={"epochs": 3})
    [new_config] = [o for o in changed if o["metadata"]["name"] == "wine-quality-program"]
    diff = object_diff(live, new_config)
    assert '-      "epochs": 10,' in diff and '+      "epochs": 3,' in diff
    assert object_diff(None, config).startswith("--- /dev/null\n+++ applied/ConfigMap/")


@pytest.mark.parametrize("status, verdict", [
    ({}, None), ({"active": 1}, None),
    ({"conditions": [{"type": "Complete", "status": "True"}]}, "succeeded"),
    ({"conditions": [{"type": "Failed", "status": "True"}]}, "failed"),
    ({"conditions": [{"type": "Failed", "status": "False"}]}, None)])
def test_job_verdicts(status, verdict):
    assert job_verdict({"status": status}) == verdict


def test_workflow_verdicts():
    assert workflow_verdict({"status": {"phase": "Running"}}) is None
    assert workflow_verdict({"status": {"phase": "Succeeded"}}) == "succeeded"
    assert workflow_verdict({"status": {"phase": "Error"}}) == "failed"


@pytest.fixture
def registered(tmp_path) -> str:
    program = single_step()
    program.name, program.version = "hello", "0.1.0"
    Store().register(program, tmp_path, str(tmp_path / "samepack.yaml"))
    return program.ref


def test_deploy_without_kubeconfig_is_a_one_line_error(samepack, registered, tmp_path):
    result = samepack("deploy", registered, env={"KUBECONFIG": "", "HOME": str(tmp_path),
                                                 "KUBERNETES_SERVICE_HOST": ""})
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0] == ("error: no kubeconfig: KUBECONFIG is not set and "
                                             "~/.kube/config does not exist")
    assert "Traceback" not in result.stderr


def test_deploy_to_an_unreachable_cluster_is_a_remote_error(samepack, registered, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\n")
    result = samepack("deploy", registered, "--dry-run", env={"KUBECONFIG": str(kubeconfig)})
    assert result.exit_code == 8, result.stderr
    assert "cannot reach the cluster" in result.stderr and "Traceback" not in result.stderr


def test_unknown_context_is_an_input_error(samepack, registered, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    result = samepack("deploy", registered, "--context", "nope", env={"KUBECONFIG": str(kubeconfig)})
    assert result.exit_code == 3 and result.stderr.startswith(f"error: {kubeconfig}:")


def test_deploy_of_an_unknown_program_is_not_found(samepack):
    result = samepack("deploy", "nothing:1.0")
    assert result.exit_code == 4 and result.stderr.startswith("error:")


def test_run_target_k8s_without_kubeconfig_is_a_one_line_error(samepack, registered, tmp_path):
    result = samepack("run", "--target", "k8s", "program", registered,
                      env={"KUBECONFIG": "", "HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": ""})
    assert result.exit_code == 3, result.stderr
    assert "error: no kubeconfig" in result.stderr


@pytest.fixture
def wine_bundle(samepack, fixture_project, tmp_path) -> Path:
    project = fixture_project("wine-quality")
    created = samepack("create", "program", "-f", project / "samepack.yaml")
    assert created.exit_code == 0, created.stderr
    bundle = tmp_path / "wine.tgz"
    exported = samepack("export", "program", "-n", "wine-quality:1.0", "-o", bundle)
    assert exported.exit_code == 0, exported.stderr
    return bundle


def test_bundle_infra_manifests_are_what_deploy_applies(wine_bundle, samepack, tmp_path):
    from samepack.commands.deploy import entry_manifests

    entry = Store().get("wine-quality:1.0")
    objects = entry_manifests(entry, "elsewhere")
    assert {o["metadata"].get("namespace") for o in objects[1:]} == {"elsewhere"}
    validate_manifests(objects)


def test_import_cluster_imports_then_stops_at_the_missing_kubeconfig(wine_bundle, samepack,
                                                                     tmp_path):
    result = samepack("import", wine_bundle, "--cluster", "--force",
                      env={"KUBECONFIG": "", "HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": ""})
    assert result.exit_code == 3, result.stderr
    assert "error: no kubeconfig" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout.strip() == "wine-quality:1.0"  # the import itself went through


def test_run_target_k8s_checks_parameters_before_the_cluster(samepack, registered, tmp_path):
    result = samepack("run", "program", registered, "--target", "k8s", "--nope=1",
                      env={"KUBECONFIG": "", "HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": ""})
    assert result.exit_code == 3, result.stderr
    assert "nope" in result.stderr and "kubeconfig" not in result.stderr


def test_unknown_kubernetes_version_fails_before_the_cluster(samepack, registered, tmp_path):
    result = samepack("deploy", registered, "--kubernetes-version", "1.9",
                      env={"KUBECONFIG": "", "HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": ""})
    assert result.exit_code == 3
    assert result.stderr.startswith("error: --kubernetes-version: no schemas for Kubernetes 1.9")


def test_deploy_json_failure_is_one_document(samepack, registered, tmp_path):
    result = samepack("deploy", registered, "--json",
                      env={"KUBECONFIG": "", "HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": ""})
    assert result.exit_code == 3
    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == 3 and error["message"].startswith("no kubeconfig")
