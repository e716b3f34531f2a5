"""``samepack deploy`` without the CLI: validate, preflight, fill Secrets from the environment,
then apply in order (or dry-run and show the diff), and remove what an earlier version left.

Jobs: a Job's pod template is immutable, so a Job whose template changed (a new version, a
changed step) is replaced: deleted, then applied again; so is a Job that failed, so a plain
re-deploy retries a failed step. Jobs that need other steps are applied only once those have
completed, so a pipeline runs in dependency order without Argo (``wait=False`` leaves those
for the next deploy)."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from samepack.errors import InputError, ResourceError, RunFailedError
from samepack.k8s.api.errors import ApiError
from samepack.k8s.objects.names import MANAGED_BY, dns_name, label_value
from samepack.k8s.objects.order import sort_objects
from samepack.k8s.apply.plan import namespace_of, object_diff, removal_diff, split_dry_run
from samepack.k8s.api.preflight import node_facts, preflight, step_needs
from samepack.k8s.objects.render import NEEDS_ANNOTATION, RUN_LABEL, STEP_LABEL
from samepack.k8s.objects.secrets import secret_objects
from samepack.k8s.api.status import job_verdict, pending_reason, workflow_verdict
from samepack.k8s.api.validate import DEFAULT_KUBERNETES_VERSION, describe, validate_manifests
from samepack.program.model import Program

Report = Callable[[str], None]
JOB_TIMEOUT = 24 * 3600.0

# What deploy applies and may remove again when a new version no longer has it (claims hold
# data: they go only with ``undeploy --purge``).
PRUNABLE = [("batch/v1", "Job"), ("batch/v1", "CronJob"), ("v1", "ConfigMap"), ("v1", "Secret"),
            ("rbac.authorization.k8s.io/v1", "RoleBinding"), ("rbac.authorization.k8s.io/v1", "Role"),
            ("v1", "ServiceAccount")]
ARGO_PRUNABLE = [("argoproj.io/v1alpha1", "Workflow"), ("argoproj.io/v1alpha1", "CronWorkflow")]


@dataclass
class DeployRequest:
    program: Program
    objects: list[dict[str, Any]]
    dry_run: bool = False
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    wait: bool = True
    timeout: float = JOB_TIMEOUT  # seconds to wait for the Jobs others need
    prune: bool = True  # remove objects of this program that the new set no longer has
    crd_schemas: dict | None = None


@dataclass
class DeployOutcome:
    applied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # Jobs left for a later deploy (no wait)
    diffs: list[str] = field(default_factory=list)
    client_only: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # Secrets a real deploy would stop at

    def to_dict(self) -> dict[str, list[str]]:
        """What ``deploy --json`` prints: each list by name."""
        return {name: list(getattr(self, name)) for name in
                ("applied", "unchanged", "replaced", "removed", "pending", "diffs",
                 "client_only", "missing")}


def program_selector(program_name: str) -> str:
    """The label selector of everything samepack applied for a program (any version)."""
    return (f"app.kubernetes.io/managed-by={MANAGED_BY},"
            f"app.kubernetes.io/name={label_value(program_name)}")


def check_fit(cluster, program: Program) -> None:
    """Raise ResourceError when some step fits on no node of the cluster."""
    problems = preflight(step_needs(program), [node_facts(n) for n in cluster.nodes()])
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ResourceError(problems[0] + more,
                            hint="give the cluster bigger (or ready, untainted) nodes, or lower "
                                 "the step's resources in samepack.yaml")


ARGO_CRDS = {"Workflow": "workflows.argoproj.io", "CronWorkflow": "cronworkflows.argoproj.io"}


def argo_schemas(cluster) -> dict[str, Any]:
    """The Argo kinds' schemas as this cluster's own CRDs define them (made strict), for
    client-side validation before anything is applied."""
    from samepack.k8s.api.validate import crd_schema

    schemas = {}
    for kind, name in ARGO_CRDS.items():
        crd = cluster.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name)
        if crd is not None:
            schemas[kind] = crd_schema(crd)[1]
    return schemas


def _secrets(cluster, request: DeployRequest, namespace: str, namespace_exists: bool,
             outcome: DeployOutcome) -> list[dict[str, Any]]:
    plan = secret_objects(request.program, namespace, request.environ)
    for ref in plan.missing:
        name = dns_name(ref.name, limit=253)
        exists = namespace_exists and cluster.get("v1", "Secret", name, namespace) is not None
        if exists:
            continue
        if not request.dry_run:
            raise InputError(f"secret {ref.name}: {ref.env} is not set in this environment",
                             hint=f"export {ref.env}=... (values come from your environment, "
                                  f"never from a bundle)")
        outcome.missing.append(f"Secret/{name}: {ref.env} is not set in this environment and "
                               f"the Secret does not exist")
    return plan.objects


def _replaceable(live: dict[str, Any] | None) -> bool:
    """A live object that a re-deploy runs again: a failed Job or Workflow."""
    if not live:
        return False
    if live.get("kind") == "Job":
        return job_verdict(live) == "failed"
    if live.get("kind") == "Workflow":
        return workflow_verdict(live) == "failed"
    return False


def _replace(cluster, obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    cluster.delete(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
    return cluster.apply(obj)


def apply_object(cluster, obj: dict[str, Any]) -> str:
    """Apply one object: ``applied``, ``unchanged`` or ``replaced`` (a Job whose pod template
    changed, or a failed Job or Workflow, is deleted and applied anew)."""
    live = cluster.live(obj)
    if _replaceable(live):
        _replace(cluster, obj)
        return "replaced"
    try:
        result = cluster.apply(obj)
    except ApiError as error:
        if not (error.immutable and live is not None):
            raise
        _replace(cluster, obj)
        return "replaced"
    # Compared without status and server fields: controllers touch new objects meanwhile.
    return "unchanged" if live is not None and object_diff(live, result) == "" else "applied"


def _dry_run_object(cluster, obj: dict[str, Any], outcome: DeployOutcome) -> None:
    live = cluster.live(obj)
    try:
        proposed = cluster.apply(obj, dry_run=True)
        replace = _replaceable(live)
    except ApiError as error:
        if not (error.immutable and live is not None):
            raise
        replace = True
        fresh = copy.deepcopy(obj)  # what a new object would be: a dry-run create, named by the server
        fresh["metadata"].pop("name")
        fresh["metadata"]["generateName"] = obj["metadata"]["name"][:40] + "-"
        proposed = cluster.create(fresh, dry_run=True)
        proposed["metadata"]["name"] = obj["metadata"]["name"]
    name = describe(obj) + (" (replaced: deleted, then created again)" if replace else "")
    diff = object_diff(live, proposed, name=name)
    if replace and not diff:
        diff = f"--- live/{name}\n+++ applied/{name}\n"
    (outcome.diffs.append(diff) if diff else outcome.unchanged.append(describe(obj)))


def _dry_run(cluster, objects: list[dict], outcome: DeployOutcome, report: Report,
             version: str, namespace_exists: bool) -> None:
    namespace = namespace_of(objects)
    server, local = split_dry_run(objects, namespace_exists)
    for obj in server:
        _dry_run_object(cluster, obj, outcome)
    if local:
        report(f"namespace {namespace} does not exist yet, so the server cannot dry-run the "
               f"{len(local)} objects inside it; they were validated client-side "
               f"(kubernetes-validate, strict, Kubernetes {version})")
        for obj in local:
            outcome.diffs.append(object_diff(None, obj))
            outcome.client_only.append(describe(obj))


def _why_pending(cluster, job: dict[str, Any]):
    meta = job["metadata"]

    def why() -> str | None:
        pods = cluster.pods(meta["namespace"], f"job-name={meta['name']}")
        return pending_reason(pods[0]) if pods else "no pod created yet"

    return why


def _wait_for_job(cluster, job: dict[str, Any], report: Report, timeout: float) -> None:
    meta = job["metadata"]
    report(f"waiting for Job {meta['name']}")
    final = cluster.wait_for("batch/v1", "Job", meta["name"], meta["namespace"], job_verdict,
                             timeout, why=_why_pending(cluster, job))
    if job_verdict(final) != "succeeded":
        raise RunFailedError(f"Job {meta['name']} failed",
                             hint=f"kubectl -n {meta['namespace']} logs job/{meta['name']}; "
                                  f"after a fix, samepack deploy again replaces the failed Job")


def _needs(obj: dict[str, Any]) -> list[str]:
    needs = (obj["metadata"].get("annotations") or {}).get(NEEDS_ANNOTATION, "")
    return [dns_name(need) for need in filter(None, needs.split(","))]


def apply_in_order(cluster, objects: list[dict[str, Any]], report: Report, wait: bool,
                   outcome: DeployOutcome, timeout: float = JOB_TIMEOUT) -> None:
    """Apply everything but Jobs, then each Job once the Jobs it needs have completed (without
    ``wait``, a Job whose needs have not completed yet is left for the next deploy)."""
    jobs = {obj["metadata"]["labels"].get(STEP_LABEL): obj for obj in objects if obj["kind"] == "Job"}
    waited: set[str] = set()
    held: set[str] = set()
    for obj in objects:
        if obj["kind"] == "Job":
            step = obj["metadata"]["labels"].get(STEP_LABEL)
            needs = [key for key in _needs(obj) if key in jobs]
            if not wait:
                live = {key: cluster.live(jobs[key]) for key in needs if key not in held}
                if any(key in held or job_verdict(live[key] or {}) != "succeeded" for key in needs):
                    held.add(step)
                    outcome.pending.append(describe(obj))
                    report(f"not yet applied {describe(obj)}: it needs "
                           f"{', '.join(needs)} to complete first")
                    continue
            for key in needs:
                if key not in waited:
                    _wait_for_job(cluster, jobs[key], report, timeout)
                    waited.add(key)
        verdict = apply_object(cluster, obj)
        {"applied": outcome.applied, "unchanged": outcome.unchanged,
         "replaced": outcome.replaced}[verdict].append(describe(obj))
        report(f"{verdict} {describe(obj)}")


def stale_objects(cluster, program: Program, namespace: str, keep: list[dict[str, Any]],
                  kinds: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Objects samepack applied for this program (any version, not a run's) that ``keep`` no
    longer has."""
    wanted = {(obj["kind"], obj["metadata"]["name"]) for obj in keep}
    selector = f"{program_selector(program.name)},!{RUN_LABEL}"
    stale = []
    for api_version, kind in kinds:
        for item in cluster.list(api_version, kind, namespace, selector):
            if (kind, item["metadata"]["name"]) not in wanted:
                stale.append({**item, "apiVersion": api_version, "kind": kind})
    return stale


def _prune(cluster, request: DeployRequest, namespace: str, objects: list[dict],
           outcome: DeployOutcome, report: Report) -> None:
    kinds = PRUNABLE + [k for k in ARGO_PRUNABLE if cluster.serves(*k)]
    for item in stale_objects(cluster, request.program, namespace, objects, kinds):
        meta = item["metadata"]
        if request.dry_run:
            outcome.diffs.append(removal_diff(item, f"not in {request.program.ref}"))
        else:
            cluster.delete(item["apiVersion"], item["kind"], meta["name"], namespace)
            report(f"removed {item['kind']}/{meta['name']} (not in {request.program.ref})")
        outcome.removed.append(f"{item['kind']}/{meta['name']}")


def deploy(cluster, request: DeployRequest, report: Report) -> DeployOutcome:
    """Validate, check the fit, then apply (or dry-run) ``request.objects``."""
    namespace = namespace_of(request.objects) or "default"
    validate_manifests(request.objects, request.kubernetes_version, crd_schemas=request.crd_schemas)
    check_fit(cluster, request.program)
    outcome = DeployOutcome()
    exists = cluster.get("v1", "Namespace", namespace) is not None
    objects = sort_objects(request.objects + _secrets(cluster, request, namespace, exists, outcome))
    if request.dry_run:
        _dry_run(cluster, objects, outcome, report, request.kubernetes_version, exists)
    else:
        apply_in_order(cluster, objects, report, request.wait, outcome, request.timeout)
    if request.prune and exists:
        _prune(cluster, request, namespace, objects, outcome, report)
    return outcome
