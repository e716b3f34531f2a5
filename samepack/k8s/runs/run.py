"""``samepack run --target k8s``: one run of a program on a cluster, recorded in the local run
history like a local run. Multi-step programs become an Argo Workflow when the cluster serves
Argo's CRDs now; otherwise (and for single steps) Jobs are submitted in dependency order and
watched, their logs streamed back where the cluster serves them.

Each step's exit code, metric points, log tail and output files come back through its
container's termination message (``samepack.k8s.exchange.results``), the files themselves through the
exchange registry when one is given (``samepack.k8s.exchange.transfer``), so ``runs compare`` and
``reproduce`` see cluster runs like local ones. Ctrl-C or SIGTERM records the run as cancelled
and removes the run's objects.

With ``--no-wait`` the run is submitted and left: every Job is created at once, those whose
steps need others suspended, and ``samepack runs wait ID`` (or ``runs show ID``) later records
what finished and lets the next steps start (``samepack.k8s.runs.collect``)."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from samepack.errors import CancelledError, RemoteError, RunFailedError
from samepack.k8s.objects.argo import ARGO_API, executor_rbac, render_workflow
from samepack.k8s.exchange.access import ExchangeAccess, exchange_access
from samepack.k8s.exchange.carry import carried_datasets, fetch_from_registry
from samepack.k8s.apply.deploy import JOB_TIMEOUT, check_fit
from samepack.k8s.objects.names import dns_name
from samepack.k8s.objects.params import resolve_params
from samepack.k8s.runs.record import RunRecorder
from samepack.k8s.objects.render import (
    NEEDS_ANNOTATION, RUN_LABEL, default_namespace, pod_context, render_manifests,
)
from samepack.k8s.exchange.results import container_result
from samepack.k8s.objects.secrets import secret_objects
from samepack.k8s.api.status import job_verdict, pending_reason, pod_phase, workflow_verdict
from samepack.k8s.exchange.transfer import ClusterRegistry
from samepack.k8s.api.validate import validate_manifests
from samepack.program.model import Program

Line = Callable[[str], None]
ARGO_WORKFLOW_LABEL = "workflows.argoproj.io/workflow"
ARGO_NODE_ANNOTATION = "workflows.argoproj.io/node-name"
# What a run creates under its own name (removed again when the run is interrupted).
RUN_KINDS = [(ARGO_API, "Workflow"), ("batch/v1", "Job"), ("v1", "ConfigMap")]
# Run tags that let a later command collect a run it did not wait for.
DETACHED_TAG = "k8s.wait"
REGISTRY_TAG = "k8s.registry"
CONTEXT_TAG = "k8s.context"  # the kubeconfig context a run went through: collected through it


@dataclass
class ClusterRun:
    program: Program
    workdir: Path
    overrides: dict[str, Any]
    context: str | None = None
    namespace: str | None = None
    check_resources: bool = True
    timeout: float = JOB_TIMEOUT  # seconds each step may take from submission to its end
    wait: bool = True  # False: submit and return (samepack runs wait ID collects the results)
    registry: ClusterRegistry | None = None  # where big data sets and output files travel


def _image(workdir: Path) -> str | None:
    from samepack.image.record import read_image

    record = read_image(workdir)
    return record.pinned() if record else None


def _utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


class _Runner:
    def __init__(self, cluster, history, request: ClusterRun, on_line: Line, report: Line,
                 run_id: str):
        self.cluster, self.history, self.request = cluster, history, request
        self.on_line, self.report = on_line, report
        self.namespace = request.namespace or default_namespace(request.program)
        self.pulled: dict[str, tuple[str, str]] = {}  # data sets pulled from the registry
        secrets = [os.environ.get(ref.env, "") for ref in request.program.secrets]
        self.recorder = RunRecorder(history, run_id, secrets, on_line, report, request.registry)

        self.exchange: ExchangeAccess | None = None  # set with the run's objects

    def _follow(self, pod: str, container: str, prefix: str) -> None:
        try:
            for line in self.cluster.follow_log(self.namespace, pod, container):
                self.on_line(f"[{prefix}] {line}")
        except RemoteError as error:  # no logs (not started, or not served): the result says
            self.report(f"step {prefix}: no live log ({error.message})")

    def _record(self, run_id: str, step: str, result, status: str, started: str | None,
                duration: float | None) -> None:
        self.recorder.step(step, result, status, started, duration)

    def _follow_workflow(self, name: str) -> dict[str, Any]:
        """Stream each step pod's log as the pods start; the finished Workflow."""
        seen: set[str] = set()
        deadline = time.monotonic() + self.request.timeout
        while time.monotonic() < deadline:
            workflow = self.cluster.get(ARGO_API, "Workflow", name, self.namespace) or {}
            pods = self.cluster.pods(self.namespace, f"{ARGO_WORKFLOW_LABEL}={name}")
            for pod in sorted(pods, key=lambda p: (p.get("status") or {}).get("startTime") or ""):
                pod_name = pod["metadata"]["name"]
                if pod_name in seen or pod_phase(pod) == "Pending":
                    continue
                seen.add(pod_name)
                node = (pod["metadata"].get("annotations") or {}).get(ARGO_NODE_ANNOTATION, pod_name)
                self._follow(pod_name, "main", node.rsplit(".", 1)[-1])
            if workflow_verdict(workflow) is not None:
                return workflow
            time.sleep(1)
        raise RemoteError(f"Workflow/{name}: no result after {self.request.timeout:g} s",
                          hint=f"kubectl -n {self.namespace} get workflow {name}; "
                               f"SAMEPACK_K8S_TIMEOUT=SECONDS waits longer")

    def _wait_pod(self, selector: str, deadline: float) -> dict[str, Any] | None:
        """The newest pod matching ``selector`` once it runs or has ended (None at the deadline)."""
        while time.monotonic() < deadline:
            pods = self.cluster.pods(self.namespace, selector)
            started = [p for p in pods if pod_phase(p) in ("Running", "Succeeded", "Failed")]
            if started:
                return max(started, key=lambda p: p["metadata"].get("creationTimestamp") or "")
            time.sleep(1)
        return None

    def _finished_pod(self, job: dict[str, Any]) -> dict[str, Any] | None:
        """The Job's last finished pod (the retry that decided its verdict)."""
        uid = job.get("metadata", {}).get("uid")
        pods = self.cluster.pods(self.namespace, f"controller-uid={uid}") if uid else []
        done = [p for p in pods if pod_phase(p) in ("Succeeded", "Failed")]
        return max(done, key=lambda p: p["metadata"].get("creationTimestamp") or "") if done else None

    def run_jobs(self, objects: list[dict], run_id: str) -> bool:
        for obj in objects:
            if obj["kind"] != "Job":
                self.cluster.apply(obj)
        for job in (o for o in objects if o["kind"] == "Job"):
            step = job["metadata"]["labels"]["app.kubernetes.io/component"]
            name, started = job["metadata"]["name"], time.time()
            deadline = time.monotonic() + self.request.timeout
            self.cluster.apply(job)
            self.report(f"step {step}: Job {name} submitted")
            pod = self._wait_pod(f"job-name={name}", deadline)
            if pod:
                self._follow(pod["metadata"]["name"], dns_name(step), step)

            def why() -> str | None:
                pods = self.cluster.pods(self.namespace, f"job-name={name}")
                return pending_reason(pods[0]) if pods else "no pod created yet"

            try:
                final = self.cluster.wait_for("batch/v1", "Job", name, self.namespace, job_verdict,
                                              max(0.0, deadline - time.monotonic()), why=why)
            except RemoteError:
                self._record(run_id, step, None, "failed", _utc(started),
                             round(time.time() - started, 3))
                raise
            status = job_verdict(final) or "failed"
            finished = self._finished_pod(final)
            result = container_result(finished, dns_name(step)) if finished else None
            self._record(run_id, step, result, status, _utc(started), round(time.time() - started, 3))
            if status != "succeeded":
                return False
        return True

    def submit_workflow(self, objects: list[dict], short_id: str) -> str:
        """Apply the run's objects and its Workflow; the Workflow's name."""
        program = self.request.program
        ctx = pod_context(program, image=_image(self.request.workdir),
                          params=self.request.overrides, run_id=short_id)
        for obj in objects + executor_rbac(ctx, self.namespace):
            if obj["kind"] != "Job":
                self.cluster.apply(obj)
        workflow = render_workflow(program, image=_image(self.request.workdir),
                                   namespace=self.namespace, params=self.request.overrides,
                                   run_id=short_id, exchange=self.exchange)
        fetch_from_registry([workflow], self.pulled)
        self.cluster.apply(workflow)
        name = workflow["metadata"]["name"]
        self.report(f"Argo Workflow {name} submitted")
        return name

    def run_workflow(self, objects: list[dict], run_id: str, short_id: str) -> bool:
        name = self.submit_workflow(objects, short_id)
        final = self._follow_workflow(name)
        record_workflow(self.cluster, self.namespace, final, self.recorder,
                        step_names(self.request.program))
        return workflow_verdict(final) == "succeeded"

    def submit_jobs(self, objects: list[dict]) -> None:
        """Apply every object at once, the Jobs of steps that need others suspended (the
        collector lets each start once what it needs has succeeded)."""
        for obj in objects:
            if obj["kind"] == "Job" and (obj["metadata"].get("annotations") or {}).get(NEEDS_ANNOTATION):
                obj = {**obj, "spec": {**obj["spec"], "suspend": True}}
            self.cluster.apply(obj)
        self.report(f"{sum(o['kind'] == 'Job' for o in objects)} Jobs submitted")

    def remove_run_objects(self, short_id: str) -> list[str]:
        """Delete what this run created (its Jobs and their pods, its ConfigMap, its Workflow)."""
        removed = []
        for api_version, kind in RUN_KINDS:
            if kind == "Workflow" and not self.cluster.serves(api_version, kind):
                continue
            for item in self.cluster.list(api_version, kind, self.namespace, f"{RUN_LABEL}={short_id}"):
                self.cluster.delete(api_version, kind, item["metadata"]["name"], self.namespace,
                                    wait=0)
                removed.append(f"{kind}/{item['metadata']['name']}")
        return removed


def run_on_cluster(cluster, request: ClusterRun, history, on_line: Line, report: Line):
    """Run ``request.program`` on ``cluster``; the finished run's record (RunFailedError when a
    step failed, CancelledError on Ctrl-C or SIGTERM, after the run is recorded). Without
    ``request.wait``, the record of the run as submitted (status running)."""
    from samepack.run.local import sigterm_as_interrupt

    program = request.program
    params = resolve_params(program, request.overrides)
    run_id = uuid.uuid4().hex
    short_id = run_id[:8]
    runner = _Runner(cluster, history, request, on_line, report, run_id)
    carried = carried_datasets(program, request.workdir, runner.namespace, request.registry)
    for problem in carried.problems:
        report(f"warning: {problem}")
    runner.pulled = carried.pulled
    login: list[dict] = []
    if request.registry:
        runner.exchange, login = exchange_access(request.registry, program, runner.namespace)
    objects = render_manifests(program, image=_image(request.workdir), namespace=runner.namespace,
                               params=request.overrides, run_id=short_id,
                               exchange=runner.exchange)
    objects += secret_objects(program, runner.namespace, os.environ).objects + login
    objects += carried.objects
    fetch_from_registry(objects, carried.pulled)
    validate_manifests(objects)
    if request.check_resources:
        check_fit(cluster, program)
    tags = {"target": "k8s", "namespace": runner.namespace}
    if cluster.context:
        tags[CONTEXT_TAG] = cluster.context
    if request.registry:
        tags[REGISTRY_TAG] = request.registry.reference
    if not request.wait:
        tags[DETACHED_TAG] = "no"
    history.start_run(program.name, program.version, params, run_id=run_id, tags=tags)
    status, submitted = "failed", False
    with sigterm_as_interrupt():
        try:
            use_argo = len(program.steps) > 1 and cluster.serves(ARGO_API, "Workflow")
            if not request.wait:
                runner.submit_workflow(objects, short_id) if use_argo else runner.submit_jobs(objects)
                report(f"run {short_id} submitted; samepack runs wait {short_id} records its "
                       f"results")
                submitted = True
                return history.get_run(run_id)
            ok = (runner.run_workflow(objects, run_id, short_id) if use_argo
                  else runner.run_jobs(objects, run_id))
            status = "succeeded" if ok else "failed"
        except KeyboardInterrupt:
            status = "cancelled"
            removed = runner.remove_run_objects(short_id)
            report(f"run {short_id} cancelled: removed {len(removed)} objects from the cluster")
            raise CancelledError(f"run {run_id} cancelled",
                                 hint=f"see samepack runs show {short_id}") from None
        finally:
            if not submitted:
                close_run(history, run_id, status, step_order(program))
    record = history.get_run(run_id)
    if status != "succeeded":
        raise RunFailedError(f"run {run_id} on the cluster failed",
                             hint=f"kubectl -n {runner.namespace} get jobs,pods -l "
                                  f"samepack.dev/run={short_id}")
    return record


def step_names(program: Program | None) -> dict[str, str]:
    """The program's step names by the DNS names their Argo tasks carry (``train_model`` runs
    as the task ``train-model``)."""
    return {dns_name(step): step for step in program.steps} if program else {}


def record_workflow(cluster, namespace: str, final: dict[str, Any], recorder: RunRecorder,
                    names: dict[str, str]) -> None:
    """Record each pod step of a finished Workflow, in the order they started, under the
    program's own step names (``names``, by task name)."""
    name = final.get("metadata", {}).get("name", "")
    pods = {(p["metadata"].get("annotations") or {}).get(ARGO_NODE_ANNOTATION, ""): p
            for p in cluster.pods(namespace, f"{ARGO_WORKFLOW_LABEL}={name}")}
    for node in sorted(((final.get("status") or {}).get("nodes") or {}).values(),
                       key=lambda n: n.get("startedAt") or ""):
        if node.get("type") == "Pod":
            status = "succeeded" if node.get("phase") == "Succeeded" else "failed"
            pod = pods.get(node.get("name", ""))
            result = container_result(pod, "main") if pod else None
            task = node.get("displayName", "?")
            recorder.step(names.get(task, task), result, status, node.get("startedAt"), None)


def step_order(program: Program) -> list[str]:
    from samepack.program.model import topological_order

    return topological_order(program.steps)


def close_run(history, run_id: str, status: str, steps: list[str]) -> None:
    """Record the ``steps`` that never ran as skipped, then the run's end."""
    recorded = {s.name for s in history.get_run(run_id).steps}
    for name in steps:
        if name not in recorded:
            history.record_step(run_id, name, None, None, None, "skipped")
    history.finish_run(run_id, status)


def _timeout_from_env() -> float:
    from samepack.settings import seconds_setting

    return seconds_setting("SAMEPACK_K8S_TIMEOUT", JOB_TIMEOUT, most=30 * 86400)


def run_target(program: Program, workdir: Path, overrides: dict[str, Any],
               ignore_resources: bool, timeout: float | None = None, wait: bool = True,
               registry: str | None = None):
    """The ``--target k8s`` runner of ``samepack run`` (current kubeconfig context; the
    namespace is the program's name; each step may take ``timeout`` seconds, by default
    ``SAMEPACK_K8S_TIMEOUT``; ``registry`` is the exchange registry, by default
    ``$SAMEPACK_K8S_REGISTRY``)."""
    from samepack.console import err, info
    from samepack.history import History
    from samepack.k8s.api.cluster import Cluster
    from samepack.k8s.exchange.transfer import open_registry

    resolve_params(program, overrides)  # bad parameters fail before the cluster is asked
    timeout = _timeout_from_env() if timeout is None else timeout
    exchange = open_registry(registry)
    cluster = Cluster.connect()
    history = History()
    try:
        return run_on_cluster(cluster, ClusterRun(program, workdir, overrides,
                                                  check_resources=not ignore_resources,
                                                  timeout=timeout, wait=wait, registry=exchange),
                              history, lambda line: err.print(line, markup=False,
                                                              highlight=False), info)
    finally:
        history.close()
        cluster.close()
        if exchange:
            exchange.close()
