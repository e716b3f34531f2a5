"""Argo Workflows rendering, validated against the Argo CRD schemas (made strict) and the
Kubernetes schemas for the RBAC objects."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from samepack.errors import VerificationError
from samepack.k8s import validate_manifests
from samepack.k8s.objects.argo import executor_rbac, render_cron_workflows, render_workflow
from samepack.k8s.api.dump import dump_manifests
from samepack.k8s.objects.render import pod_context
from samepack.k8s.api.validate import crd_schema, supported_versions
from tests.k8s.golden import assert_golden
from tests.k8s.programs import single_step, step_argv, wine_quality

SCHEMAS = Path(__file__).parent / "schemas"


@lru_cache(maxsize=None)
def argo_schemas() -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    schemas = {}
    for name in ("argoproj.io_workflows.yaml", "argoproj.io_cronworkflows.yaml"):
        kind, schema = crd_schema(yaml.load((SCHEMAS / name).read_text(), Loader=loader))
        schemas[kind] = schema
    return schemas


def _workflow(**extra):
    return render_workflow(wine_quality(), image="img:1", namespace="ml", run_id="r1", **extra)


def test_workflow_matches_golden_file():
    objects = [_workflow(), *render_cron_workflows(wine_quality(), image="img:1", namespace="ml")]
    assert_golden("k8s/wine-quality-argo.yaml", dump_manifests(objects))


def test_workflow_and_cron_workflow_validate_against_the_crds():
    objects = [_workflow(params={"epochs": 7}),
               *render_cron_workflows(wine_quality(), image="img:1", namespace="ml"),
               render_workflow(single_step(), image="img:1", namespace="ml", run_id="x")]
    validate_manifests(objects, crd_schemas=argo_schemas())


@pytest.mark.parametrize("version", ["1.30", supported_versions()[-1]])
def test_executor_rbac_validates(version):
    ctx = pod_context(wine_quality(), image="img:1", params=None)
    validate_manifests(executor_rbac(ctx, "ml"), kubernetes_version=version)


def test_dag_follows_the_steps_needs():
    tasks = _workflow()["spec"]["templates"][0]["dag"]["tasks"]
    assert tasks == [{"name": "prepare", "template": "prepare"},
                     {"name": "train", "template": "train", "dependencies": ["prepare"]}]


def test_cron_workflow_uses_the_schedules_list_and_its_parameters():
    cron = render_cron_workflows(wine_quality(), image="img:1", namespace="ml")[0]
    assert cron["spec"]["schedules"] == ["0 12 * * *"]
    train = cron["spec"]["workflowSpec"]["templates"][2]["container"]
    assert step_argv(train)[:4] == ["python", "train.py", "--epochs", "5"]


def test_unknown_field_in_a_workflow_is_caught():
    workflow = copy.deepcopy(_workflow())
    workflow["spec"]["templates"][1]["contianer"] = {}
    with pytest.raises(VerificationError, match="Workflow/wine-quality-r1: spec.templates.1"):
        validate_manifests([workflow], crd_schemas=argo_schemas())
