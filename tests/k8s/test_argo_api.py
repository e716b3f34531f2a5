"""Argo Workflows on a real API server with Argo's CRDs (installed once for this module, removed
by its last test; no Argo controller runs, so Workflows get no status): what samepack submits
while the cluster serves Argo, and that the choice follows the cluster as it is now."""

from __future__ import annotations

import json

import pytest

from samepack.k8s.argo import ARGO_API
from samepack.k8s.cluster import Cluster
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


def test_the_choice_follows_the_cluster_as_it_is_now(argo, kube, deploy, namespace, tmp_path):
    cluster = Cluster.connect()
    assert cluster.serves(ARGO_API, "Workflow") and cluster.serves(ARGO_API, "CronWorkflow")
    argo.remove_argo()
    assert not cluster.serves(ARGO_API, "Workflow")  # the same connection: no stale cache
    assert not Cluster.connect().serves(ARGO_API, "Workflow")
    result = deploy(register(pipeline(), tmp_path), "--no-wait")
    assert result.exit_code == 0, result.stderr
    assert "Workflow" not in result.stderr and set(jobs(kube, namespace)) == {"pipe-prepare"}
