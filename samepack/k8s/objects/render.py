"""Kubernetes objects for a program: pure functions from a Program to plain dicts.

``render_manifests`` gives the set a bundle carries in ``infra/`` and ``samepack deploy`` applies:
Namespace, ServiceAccount, ConfigMap (program + parameters), a PVC for the workspace and one per
data set, a Job per step and a CronJob per schedule. Secrets appear only as references
(``secretKeyRef``); their values come from the deploying machine's environment.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from samepack.k8s.exchange.access import ExchangeAccess
from samepack.k8s.objects.names import dns_name, image_tag, program_labels
from samepack.k8s.objects.order import sort_objects
from samepack.k8s.objects.params import resolve_params
from samepack.k8s.exchange.results import SCRIPT_NAME, result_script
from samepack.k8s.objects.pod import PodContext, dataset_claim, dataset_size, pod_spec
from samepack.program.model import Program, topological_order

DEFAULT_WORKSPACE_SIZE = "1Gi"
BACKOFF_LIMIT = 1
NEEDS_ANNOTATION = "samepack.dev/needs"
STEP_LABEL = "samepack.dev/step"
RUN_LABEL = "samepack.dev/run"


def default_image(program: Program) -> str:
    """The image a program runs in when none is given: its recorded image, else a local tag."""
    return program.environment.image or f"samepack/{dns_name(program.name)}:{image_tag(program.version)}"


def default_namespace(program: Program) -> str:
    return dns_name(program.name)


def _meta(program: Program, name: str, namespace: str | None, component: str | None = None,
          extra_labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name,
                            "labels": {**program_labels(program.name, program.version, component),
                                       **(extra_labels or {})}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def program_yaml(program: Program) -> str:
    """The canonical samepack.yaml text (what the ConfigMap and the bundle carry)."""
    return yaml.safe_dump(program.to_dict(), sort_keys=False, default_flow_style=False,
                          allow_unicode=True)


def _namespace(program: Program, namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(program, namespace, None)}


def _service_account(program: Program, ctx: PodContext, namespace: str) -> dict[str, Any]:
    # Our own account: a new namespace's `default` account appears only later, from the
    # controller manager, and pods referring to a missing account are refused.
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": _meta(program, ctx.service_account, namespace),
            "automountServiceAccountToken": False}


def _config_map(program: Program, ctx: PodContext, namespace: str,
                run_labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": _meta(program, ctx.config_map, namespace, extra_labels=run_labels),
            "data": {"params.json": json.dumps(ctx.params, sort_keys=True, indent=2) + "\n",
                     SCRIPT_NAME: result_script(),
                     "samepack.yaml": program_yaml(program)}}


def _claim(program: Program, name: str, namespace: str, size: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": _meta(program, name, namespace),
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}}


def _claims(program: Program, ctx: PodContext, namespace: str) -> list[dict[str, Any]]:
    size = program.resources.storage or DEFAULT_WORKSPACE_SIZE
    claims = [_claim(program, ctx.workspace_claim, namespace, size)]
    claims += [_claim(program, dataset_claim(program, name), namespace,
                      dataset_size(program.datasets[name].size))
               for name in sorted(program.datasets)]
    return claims


def _job(program: Program, ctx: PodContext, namespace: str, step_name: str,
         run_id: str | None) -> dict[str, Any]:
    step = program.steps[step_name]
    run_labels = {RUN_LABEL: run_id} if run_id else {}
    labels = {STEP_LABEL: dns_name(step_name), **run_labels}
    meta = _meta(program, dns_name(program.name, step_name, run_id or ""), namespace,
                 component=step_name, extra_labels=labels)
    if step.needs:
        meta["annotations"] = {NEEDS_ANNOTATION: ",".join(step.needs)}
    template_labels = {**program_labels(program.name, program.version, step_name), **labels}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
            "spec": {"backoffLimit": BACKOFF_LIMIT,
                     "template": {"metadata": {"labels": template_labels},
                                  "spec": pod_spec(ctx, [step])}}}


def schedule_steps(program: Program, steps: list[str] | None) -> list[str]:
    """The steps a schedule runs, in dependency order."""
    order = topological_order(program.steps)
    return [name for name in order if steps is None or name in steps]


def schedule_context(program: Program, base: PodContext, name: str) -> PodContext:
    """The pods of a schedule: its parameter values, in a ConfigMap of its own, so the command
    and the mounted ``params.json`` say the same."""
    schedule = program.schedules[name]
    params = resolve_params(program, {**base.params, **schedule.params})
    return PodContext(program, base.image, params,
                      dns_name(program.name, name, "program", limit=253), base.service_account,
                      base.workspace_claim)


def _cron_job(program: Program, base: PodContext, namespace: str, name: str) -> dict[str, Any]:
    schedule = program.schedules[name]
    ctx = schedule_context(program, base, name)
    steps = [program.steps[s] for s in schedule_steps(program, schedule.steps)]
    labels = program_labels(program.name, program.version, name)
    return {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": _meta(program, dns_name(program.name, name, limit=52), namespace, name),
            "spec": {"schedule": schedule.cron, "concurrencyPolicy": "Forbid",
                     "jobTemplate": {"spec": {"backoffLimit": BACKOFF_LIMIT, "template": {
                         "metadata": {"labels": labels}, "spec": pod_spec(ctx, steps)}}}}}


def pod_context(program: Program, *, image: str | None, params: dict | None,
                run_id: str | None = None, exchange: ExchangeAccess | None = None) -> PodContext:
    """What the pods of one rendering share (names of the ConfigMap, account and workspace)."""
    return PodContext(program=program, image=image or default_image(program),
                      params=resolve_params(program, params),
                      config_map=dns_name(program.name, run_id or "", "program", limit=253),
                      service_account=dns_name(program.name, "runner", limit=253),
                      workspace_claim=dns_name(program.name, "workspace", limit=253),
                      exchange=exchange)


def render_manifests(program: Program, *, image: str | None, namespace: str | None = None,
                     params: dict | None = None, run_id: str | None = None,
                     exchange: ExchangeAccess | None = None) -> list[dict]:
    """Every object the program needs on a cluster, in apply order, the same for the same input.

    ``run_id`` names one run: its Jobs and ConfigMap get the id as a suffix so runs do not
    collide; without it (``infra/``) names are stable and re-applying changes nothing.
    ``exchange`` is the registry a run's steps upload their output files to
    (``samepack.k8s.exchange.results``) and the login they use there (``samepack.k8s.exchange.access``).
    """
    namespace = namespace or default_namespace(program)
    ctx = pod_context(program, image=image, params=params, run_id=run_id, exchange=exchange)
    run_labels = {RUN_LABEL: run_id} if run_id else {}
    objects = [_namespace(program, namespace), _service_account(program, ctx, namespace),
               _config_map(program, ctx, namespace, run_labels), *_claims(program, ctx, namespace)]
    if run_id is None:
        objects += [_config_map(program, schedule_context(program, ctx, name), namespace, {})
                    for name in program.schedules]
    objects += [_job(program, ctx, namespace, step, run_id)
                for step in topological_order(program.steps)]
    if run_id is None:
        objects += [_cron_job(program, ctx, namespace, name) for name in program.schedules]
    return sort_objects(objects)
