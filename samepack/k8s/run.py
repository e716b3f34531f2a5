"""``samepack run --target k8s``: one run of a program on a cluster, recorded in the local run
history like a local run. Multi-step programs become an Argo Workflow when the cluster serves
Argo's CRDs; otherwise (and for single steps) Jobs are submitted in dependency order and watched,
their logs streamed back."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from samepack.errors import RemoteError, RunFailedError
from samepack.k8s.argo import ARGO_API, executor_rbac, render_workflow
from samepack.k8s.deploy import check_fit
from samepack.k8s.names import dns_name
from samepack.k8s.params import resolve_params
from samepack.k8s.render import default_namespace, pod_context, render_manifests
from samepack.k8s.secrets import secret_objects
from samepack.k8s.status import job_verdict, pod_phase, workflow_verdict
from samepack.k8s.validate import validate_manifests
from samepack.program.model import Program

Line = Callable[[str], None]
STEP_TIMEOUT = 24 * 3600.0
ARGO_WORKFLOW_LABEL = "workflows.argoproj.io/workflow"
ARGO_NODE_ANNOTATION = "workflows.argoproj.io/node-name"


@dataclass
class ClusterRun:
    program: Program
    workdir: Path
    overrides: dict[str, Any]
    context: str | None = None
    namespace: str | None = None
    check_resources: bool = True


def _image(workdir: Path) -> str | None:
    from samepack.image.record import read_image

    record = read_image(workdir)
    return record.pinned() if record else None


def _utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


class _Runner:
    def __init__(self, cluster, history, request: ClusterRun, on_line: Line, report: Line):
        self.cluster, self.history, self.request = cluster, history, request
        self.on_line, self.report = on_line, report
        self.namespace = request.namespace or default_namespace(request.program)

    def _follow(self, pod: str, container: str, prefix: str) -> None:
        try:
            for line in self.cluster.follow_log(self.namespace, pod, container):
                self.on_line(f"[{prefix}] {line}")
        except RemoteError as error:  # the container never started: the verdict says why
            self.report(f"step {prefix}: no log ({error.message})")

    def _follow_workflow(self, name: str) -> dict[str, Any]:
        """Stream each step pod's log as the pods start; the finished Workflow."""
        seen: set[str] = set()
        deadline = time.monotonic() + STEP_TIMEOUT
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
            time.sleep(2)
        raise RemoteError(f"Workflow/{name}: no result after {int(STEP_TIMEOUT)} s",
                          hint=f"kubectl -n {self.namespace} get workflow {name}")

    def _wait_pod(self, selector: str) -> dict[str, Any] | None:
        """The first pod matching ``selector`` once it runs or has ended."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            pods = self.cluster.pods(self.namespace, selector)
            started = [p for p in pods if pod_phase(p) in ("Running", "Succeeded", "Failed")]
            if started:
                return started[0]
            time.sleep(2)
        return None

    def run_jobs(self, objects: list[dict], run_id: str) -> bool:
        for obj in objects:
            if obj["kind"] != "Job":
                self.cluster.apply(obj)
        for job in (o for o in objects if o["kind"] == "Job"):
            step = job["metadata"]["labels"]["app.kubernetes.io/component"]
            name, started = job["metadata"]["name"], time.time()
            self.cluster.apply(job)
            self.report(f"step {step}: Job {name} submitted")
            pod = self._wait_pod(f"job-name={name}")
            if pod:
                self._follow(pod["metadata"]["name"], dns_name(step), step)
            final = self.cluster.wait_for("batch/v1", "Job", name, self.namespace, job_verdict,
                                          STEP_TIMEOUT)
            status = job_verdict(final) or "failed"
            self.history.record_step(run_id, step, 0 if status == "succeeded" else 1,
                                     _utc(started), round(time.time() - started, 3), status)
            if status != "succeeded":
                return False
        return True

    def run_workflow(self, objects: list[dict], run_id: str, short_id: str) -> bool:
        program = self.request.program
        ctx = pod_context(program, image=_image(self.request.workdir),
                          params=self.request.overrides, run_id=short_id)
        for obj in objects + executor_rbac(ctx, self.namespace):
            if obj["kind"] != "Job":
                self.cluster.apply(obj)
        workflow = render_workflow(program, image=_image(self.request.workdir),
                                   namespace=self.namespace, params=self.request.overrides,
                                   run_id=short_id)
        self.cluster.apply(workflow)
        name = workflow["metadata"]["name"]
        self.report(f"Argo Workflow {name} submitted")
        final = self._follow_workflow(name)
        for node in sorted(((final.get("status") or {}).get("nodes") or {}).values(),
                           key=lambda n: n.get("startedAt") or ""):
            if node.get("type") == "Pod":
                status = "succeeded" if node.get("phase") == "Succeeded" else "failed"
                self.history.record_step(run_id, node.get("displayName", "?"), None,
                                         node.get("startedAt"), None, status)
        return workflow_verdict(final) == "succeeded"


def run_on_cluster(cluster, request: ClusterRun, history, on_line: Line, report: Line):
    """Run ``request.program`` on ``cluster``; the finished run's record (RunFailedError when a
    step failed, after the run is recorded)."""
    program = request.program
    params = resolve_params(program, request.overrides)
    run_id = uuid.uuid4().hex
    short_id = run_id[:8]
    runner = _Runner(cluster, history, request, on_line, report)
    objects = render_manifests(program, image=_image(request.workdir), namespace=runner.namespace,
                               params=request.overrides, run_id=short_id)
    objects += secret_objects(program, runner.namespace, os.environ).objects
    validate_manifests(objects)
    if request.check_resources:
        check_fit(cluster, program)
    history.start_run(program.name, program.version, params, run_id=run_id,
                      tags={"target": "k8s", "namespace": runner.namespace})
    ok = False
    try:
        use_argo = len(program.steps) > 1 and cluster.serves(ARGO_API, "Workflow")
        ok = (runner.run_workflow(objects, run_id, short_id) if use_argo
              else runner.run_jobs(objects, run_id))
    finally:
        history.finish_run(run_id, "succeeded" if ok else "failed")
    record = history.get_run(run_id)
    if not ok:
        raise RunFailedError(f"run {run_id} on the cluster failed",
                             hint=f"kubectl -n {runner.namespace} get jobs,pods -l "
                                  f"samepack.dev/run={short_id}")
    return record


def run_target(program: Program, workdir: Path, overrides: dict[str, Any],
               ignore_resources: bool):
    """The ``--target k8s`` runner of ``samepack run`` (current kubeconfig context; the
    namespace is the program's name)."""
    from samepack.console import err, info
    from samepack.history import History
    from samepack.k8s.cluster import Cluster

    resolve_params(program, overrides)  # bad parameters fail before the cluster is asked
    cluster = Cluster.connect()
    history = History()
    try:
        return run_on_cluster(cluster, ClusterRun(program, workdir, overrides,
                                                  check_resources=not ignore_resources),
                              history, lambda line: err.print(line, markup=False,
                                                              highlight=False), info)
    finally:
        history.close()
