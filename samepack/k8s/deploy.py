"""``samepack deploy`` without the CLI: validate, preflight, fill Secrets from the environment,
then apply in order (or dry-run and show the diff). Jobs that need other steps are applied only
once those have completed, so a pipeline runs in dependency order without Argo."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from samepack.errors import InputError, ResourceError, RunFailedError
from samepack.k8s.names import dns_name
from samepack.k8s.order import sort_objects
from samepack.k8s.plan import namespace_of, object_diff, split_dry_run
from samepack.k8s.preflight import node_facts, preflight, step_needs
from samepack.k8s.render import NEEDS_ANNOTATION, STEP_LABEL
from samepack.k8s.secrets import secret_objects
from samepack.k8s.status import job_verdict
from samepack.k8s.validate import DEFAULT_KUBERNETES_VERSION, describe, validate_manifests
from samepack.program.model import Program

Report = Callable[[str], None]
JOB_TIMEOUT = 24 * 3600.0


@dataclass
class DeployRequest:
    program: Program
    objects: list[dict[str, Any]]
    dry_run: bool = False
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    wait: bool = True


@dataclass
class DeployOutcome:
    applied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    client_only: list[str] = field(default_factory=list)


def check_fit(cluster, program: Program) -> None:
    """Raise ResourceError when some step fits on no node of the cluster."""
    problems = preflight(step_needs(program), [node_facts(n) for n in cluster.nodes()])
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ResourceError(problems[0] + more,
                            hint="give the cluster bigger nodes, or lower the step's resources "
                                 "in samepack.yaml")


def _secrets(cluster, request: DeployRequest, namespace: str) -> list[dict[str, Any]]:
    plan = secret_objects(request.program, namespace, request.environ)
    for ref in plan.missing:
        exists = cluster.get("v1", "Secret", ref.name, namespace) if not request.dry_run else None
        if exists is None and not request.dry_run:
            raise InputError(f"secret {ref.name}: {ref.env} is not set in this environment",
                             hint=f"export {ref.env}=... (values come from your environment, "
                                  f"never from a bundle)")
    return plan.objects


def _dry_run(cluster, objects: list[dict], outcome: DeployOutcome, report: Report,
             version: str) -> None:
    namespace = namespace_of(objects)
    exists = namespace is None or cluster.get("v1", "Namespace", namespace) is not None
    server, local = split_dry_run(objects, exists)
    for obj in server:
        diff = object_diff(cluster.live(obj), cluster.apply(obj, dry_run=True))
        (outcome.diffs.append(diff) if diff else outcome.unchanged.append(describe(obj)))
    if local:
        report(f"namespace {namespace} does not exist yet, so the server cannot dry-run the "
               f"{len(local)} objects inside it; they were validated client-side "
               f"(kubernetes-validate, strict, Kubernetes {version})")
        for obj in local:
            outcome.diffs.append(object_diff(None, obj))
            outcome.client_only.append(describe(obj))


def _wait_for_job(cluster, job: dict[str, Any], report: Report) -> None:
    meta = job["metadata"]
    report(f"waiting for Job {meta['name']}")
    final = cluster.wait_for("batch/v1", "Job", meta["name"], meta["namespace"], job_verdict,
                             JOB_TIMEOUT)
    if job_verdict(final) != "succeeded":
        raise RunFailedError(f"Job {meta['name']} failed",
                             hint=f"kubectl -n {meta['namespace']} logs job/{meta['name']}")


def apply_in_order(cluster, objects: list[dict[str, Any]], report: Report, wait: bool,
                   outcome: DeployOutcome) -> None:
    """Apply everything but Jobs, then each Job once the Jobs it needs have completed."""
    jobs = {obj["metadata"]["labels"].get(STEP_LABEL): obj for obj in objects if obj["kind"] == "Job"}
    waited: set[str] = set()
    for obj in objects:
        if obj["kind"] == "Job" and wait:
            needs = (obj["metadata"].get("annotations") or {}).get(NEEDS_ANNOTATION, "")
            for need in filter(None, needs.split(",")):
                key = dns_name(need)
                if key in jobs and key not in waited:
                    _wait_for_job(cluster, jobs[key], report)
                    waited.add(key)
        cluster.apply(obj)
        outcome.applied.append(describe(obj))
        report(f"applied {describe(obj)}")


def deploy(cluster, request: DeployRequest, report: Report) -> DeployOutcome:
    """Validate, check the fit, then apply (or dry-run) ``request.objects``."""
    namespace = namespace_of(request.objects) or "default"
    validate_manifests(request.objects, request.kubernetes_version)
    check_fit(cluster, request.program)
    objects = sort_objects(request.objects + _secrets(cluster, request, namespace))
    outcome = DeployOutcome()
    if request.dry_run:
        _dry_run(cluster, objects, outcome, report, request.kubernetes_version)
    else:
        apply_in_order(cluster, objects, report, request.wait, outcome)
    return outcome
