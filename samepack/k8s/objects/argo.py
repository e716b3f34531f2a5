"""Argo Workflows objects for multi-step programs: a Workflow whose DAG mirrors the steps'
``needs``, a CronWorkflow per schedule, and the Role Argo's executor needs to report results.
Each step's pod is the same one a Job would run (``samepack.k8s.objects.pod``)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from samepack.k8s.exchange.access import ExchangeAccess
from samepack.k8s.objects.names import dns_name, program_labels
from samepack.k8s.objects.pod import PodContext, pod_spec
from samepack.k8s.objects.render import RUN_LABEL, pod_context, schedule_context, schedule_steps

ARGO_API = "argoproj.io/v1alpha1"
ENTRYPOINT = "pipeline"
_POD_PLACEMENT = ("tolerations", "affinity")


def _template(ctx: PodContext, step_name: str) -> dict[str, Any]:
    """An Argo template running one step in the pod a Job would use."""
    pod = pod_spec(ctx, [ctx.program.steps[step_name]])
    template: dict[str, Any] = {"name": dns_name(step_name), "container": pod["containers"][0],
                                "initContainers": pod["initContainers"]}
    template.update({key: pod[key] for key in _POD_PLACEMENT if key in pod})
    return template


def _dag(ctx: PodContext, steps: list[str]) -> dict[str, Any]:
    tasks = []
    for name in steps:
        task: dict[str, Any] = {"name": dns_name(name), "template": dns_name(name)}
        needs = [dns_name(n) for n in ctx.program.steps[name].needs if n in steps]
        if needs:
            task["dependencies"] = needs
        tasks.append(task)
    return {"name": ENTRYPOINT, "dag": {"tasks": tasks}}


def workflow_spec(ctx: PodContext, steps: list[str]) -> dict[str, Any]:
    """The spec shared by Workflow and CronWorkflow (``workflowSpec``)."""
    pod = pod_spec(ctx, [ctx.program.steps[steps[0]]])
    return {"entrypoint": ENTRYPOINT, "serviceAccountName": ctx.service_account,
            "securityContext": pod["securityContext"], "volumes": pod["volumes"],
            "templates": [_dag(ctx, steps)] + [_template(ctx, name) for name in steps]}


def executor_rbac(ctx: PodContext, namespace: str) -> list[dict[str, Any]]:
    """Argo's executor (in each step's pod) records step results as WorkflowTaskResults."""
    program = ctx.program
    name = dns_name(program.name, "argo-executor", limit=253)
    meta = {"name": name, "namespace": namespace,
            "labels": program_labels(program.name, program.version)}
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
            "rules": [{"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"],
                       "verbs": ["create", "patch"]}]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": dict(meta, labels=dict(meta["labels"])),
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
               "subjects": [{"kind": "ServiceAccount", "name": ctx.service_account,
                             "namespace": namespace}]}
    return [role, binding]


def render_workflow(program, *, image: str | None, namespace: str, params: dict | None = None,
                    run_id: str, exchange: ExchangeAccess | None = None) -> dict[str, Any]:
    """A Workflow running every step of ``program`` once, in dependency order."""
    ctx = pod_context(program, image=image, params=params, run_id=run_id,
                      exchange=exchange)
    labels = {**program_labels(program.name, program.version), RUN_LABEL: run_id}
    return {"apiVersion": ARGO_API, "kind": "Workflow",
            "metadata": {"name": dns_name(program.name, run_id, limit=253),
                         "namespace": namespace, "labels": labels},
            "spec": workflow_spec(ctx, schedule_steps(program, None))}


def render_cron_workflows(program, *, image: str | None, namespace: str,
                          params: dict | None = None) -> list[dict[str, Any]]:
    """One CronWorkflow per schedule, with the schedule's parameter values."""
    objects = []
    base = pod_context(program, image=image, params=params)
    for name, schedule in program.schedules.items():
        ctx = schedule_context(program, base, name)
        objects.append({
            "apiVersion": ARGO_API, "kind": "CronWorkflow",
            "metadata": {"name": dns_name(program.name, name, limit=52), "namespace": namespace,
                         "labels": program_labels(program.name, program.version, name)},
            "spec": {"schedules": [schedule.cron], "concurrencyPolicy": "Forbid",
                     "workflowSpec": workflow_spec(ctx, schedule_steps(program, schedule.steps))}})
    return objects


def deploy_workflow(program, *, image: str | None, namespace: str,
                    params: dict | None = None) -> dict[str, Any]:
    """The Workflow ``samepack deploy`` submits: every step once, named by what it runs (a
    digest of its spec), so deploying the same program again changes nothing and a new version
    or a changed step is a new Workflow."""
    ctx = pod_context(program, image=image, params=params)
    spec = workflow_spec(ctx, schedule_steps(program, None))
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:10]
    return {"apiVersion": ARGO_API, "kind": "Workflow",
            "metadata": {"name": dns_name(program.name, digest, limit=253), "namespace": namespace,
                         "labels": program_labels(program.name, program.version)},
            "spec": spec}


def image_of(objects: list[dict[str, Any]]) -> str | None:
    """The image the rendered Jobs run (what ``infra/`` was rendered with)."""
    for obj in objects:
        if obj["kind"] == "Job":
            return obj["spec"]["template"]["spec"]["containers"][0]["image"]
    return None


def with_argo(program, objects: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """``objects`` with the Jobs and CronJobs replaced by one Workflow and a CronWorkflow per
    schedule (and the executor's Role), for a cluster that serves Argo."""
    image = image_of(objects)
    ctx = pod_context(program, image=image, params=None)
    kept = [obj for obj in objects if obj["kind"] not in ("Job", "CronJob")]
    return kept + executor_rbac(ctx, namespace) + [
        deploy_workflow(program, image=image, namespace=namespace),
        *render_cron_workflows(program, image=image, namespace=namespace)]
