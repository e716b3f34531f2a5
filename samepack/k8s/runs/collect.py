"""Collecting a cluster run that ``run --target k8s --no-wait`` submitted and left: what the
cluster says now is written into the run history (each finished step, the output files, the
run's end), and each suspended Job whose needs have succeeded is let start. ``runs show ID``
makes one pass; ``runs wait ID`` makes passes until the run ends or its time is up.

Everything is read from the cluster and the history (the run's tags name its namespace and
exchange registry; its Jobs carry the step names and their needs), so any later command on a
machine with the same kubeconfig and history can collect it."""

from __future__ import annotations

import os
import time
from typing import Any, Callable

from samepack.errors import RemoteError
from samepack.k8s.objects.argo import ARGO_API
from samepack.k8s.runs.record import RunRecorder
from samepack.k8s.objects.render import NEEDS_ANNOTATION, RUN_LABEL
from samepack.k8s.exchange.results import container_result
from samepack.k8s.runs.run import (
    DETACHED_TAG, REGISTRY_TAG, close_run, record_workflow, step_names, step_order)
from samepack.k8s.api.status import job_verdict, pod_phase, workflow_verdict
from samepack.k8s.exchange.transfer import open_registry

Line = Callable[[str], None]
COMPONENT_LABEL = "app.kubernetes.io/component"
POLL_SECONDS = 1.0


def is_detached(record) -> bool:
    """A cluster run submitted with --no-wait that has not ended yet."""
    return (record.status == "running" and record.tags.get("target") == "k8s"
            and record.tags.get(DETACHED_TAG) == "no")


def _order(needs: dict[str, list[str]]) -> list[str]:
    """Steps in dependency order (ties by name)."""
    order: list[str] = []
    left = dict(needs)
    while left:
        ready = sorted(name for name, wanted in left.items()
                       if all(w in order or w not in needs for w in wanted))
        if not ready:  # a cycle cannot come from samepack's own Jobs; keep what is left
            ready = sorted(left)
        for name in ready:
            order.append(name)
            del left[name]
    return order


def _finished_pod(cluster, namespace: str, job: dict[str, Any]) -> dict[str, Any] | None:
    uid = job.get("metadata", {}).get("uid")
    pods = cluster.pods(namespace, f"controller-uid={uid}") if uid else []
    done = [p for p in pods if pod_phase(p) in ("Succeeded", "Failed")]
    return max(done, key=lambda p: p["metadata"].get("creationTimestamp") or "") if done else None


class Collector:
    def __init__(self, cluster, history, run_id: str, report: Line, on_line: Line) -> None:
        self.cluster, self.history, self.report = cluster, history, report
        record = history.get_run(run_id)
        self.run_id, self.short_id = record.id, record.id[:8]
        self.namespace = record.tags.get("namespace", "default")
        registry_ref = record.tags.get(REGISTRY_TAG)
        self.registry = open_registry(registry_ref) if registry_ref else None
        self.program = _registered_program(record)
        self.recorder = RunRecorder(history, record.id, _secret_values(self.program), on_line,
                                    report, self.registry)

    def _recorded(self) -> dict[str, str]:
        return {s.name: s.status for s in self.history.get_run(self.run_id).steps}

    def _finish(self, status: str, steps: list[str]) -> None:
        close_run(self.history, self.run_id, status, steps)
        self.report(f"run {self.short_id} {status}")

    def close(self) -> None:
        if self.registry:
            self.registry.close()

    def pass_jobs(self, jobs: list[dict[str, Any]]) -> bool:
        """Record finished steps and start the ones now free to; True once the run ended."""
        by_step = {job["metadata"]["labels"][COMPONENT_LABEL]: job for job in jobs
                   if COMPONENT_LABEL in (job["metadata"].get("labels") or {})}
        needs = {step: [n for n in (job["metadata"].get("annotations") or {})
                        .get(NEEDS_ANNOTATION, "").split(",") if n]
                 for step, job in by_step.items()}
        states = self._recorded()
        order = _order(needs)
        for step in order:
            if step in states:
                continue
            job = by_step[step]
            if any(states.get(n) in ("failed", "skipped", "cancelled") for n in needs[step]):
                self.history.record_step(self.run_id, step, None, None, None, "skipped")
                states[step] = "skipped"
                continue
            verdict = job_verdict(job)
            if verdict:
                pod = _finished_pod(self.cluster, self.namespace, job)
                result = container_result(pod, job["spec"]["template"]["spec"]["containers"][0]
                                          ["name"]) if pod else None
                self.recorder.step(step, result, verdict,
                                   job["metadata"].get("creationTimestamp"), None)
                states[step] = verdict
                self.report(f"step {step}: {verdict}")
            elif (job.get("spec") or {}).get("suspend") and all(
                    states.get(n) == "succeeded" for n in needs[step]):
                self.cluster.merge_patch("batch/v1", "Job", job["metadata"]["name"],
                                         self.namespace, {"spec": {"suspend": False}})
                self.report(f"step {step}: Job {job['metadata']['name']} started")
        if not by_step:
            raise RemoteError(f"run {self.short_id}: its Jobs are gone from namespace "
                              f"{self.namespace}",
                              hint="the run cannot be collected; run the program again")
        if all(step in states for step in order):
            failed = any(states[s] != "succeeded" for s in order)
            self._finish("failed" if failed else "succeeded", order)
            return True
        return False

    def pass_workflow(self, workflow: dict[str, Any]) -> bool:
        if workflow_verdict(workflow) is None:
            return False
        record_workflow(self.cluster, self.namespace, workflow, self.recorder,
                        step_names(self.program))
        self._finish(workflow_verdict(workflow) or "failed",
                     step_order(self.program) if self.program else [])
        return True

    def one_pass(self) -> bool:
        """Look at the cluster once; True once the run ended (and is recorded so)."""
        selector = f"{RUN_LABEL}={self.short_id}"
        if self.cluster.serves(ARGO_API, "Workflow"):
            workflows = self.cluster.list(ARGO_API, "Workflow", self.namespace, selector)
            if workflows:
                return self.pass_workflow(workflows[0])
        return self.pass_jobs(self.cluster.list("batch/v1", "Job", self.namespace, selector))


def _registered_program(record):
    """The run's program from the local store (None when it is no longer registered: the run
    is then collected from what the cluster says alone)."""
    from samepack.errors import SamepackError
    from samepack.store import Store

    try:
        return Store().get(record.ref).program
    except SamepackError:
        return None


def _secret_values(program) -> list[str]:
    """This machine's values of the program's secrets (to mask them in what comes back)."""
    return [os.environ.get(ref.env, "") for ref in program.secrets] if program else []


def collect(cluster, history, run_id: str, *, wait: bool, timeout: float, report: Line,
            on_line: Line):
    """Bring a detached run's results into the history (one pass, or until it ends with
    ``wait``); its record as it is then."""
    collector = Collector(cluster, history, run_id, report, on_line)
    deadline = time.monotonic() + timeout
    try:
        while not collector.one_pass():
            if not wait:
                break
            if time.monotonic() > deadline:
                raise RemoteError(f"run {collector.short_id}: still running after {timeout:g} s",
                                  hint=f"samepack runs wait {collector.short_id} again later "
                                       f"(--timeout SECONDS waits longer)")
            time.sleep(POLL_SECONDS)
    finally:
        collector.close()
    return history.get_run(run_id)
