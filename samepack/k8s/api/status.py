"""Verdicts on workload objects as the API reports them (pure)."""

from __future__ import annotations

from typing import Any


def job_verdict(job: dict[str, Any]) -> str | None:
    """``succeeded``, ``failed`` or None while the Job runs."""
    status = job.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("status") == "True" and condition.get("type") in ("Complete", "SuccessCriteriaMet"):
            return "succeeded"
        if condition.get("status") == "True" and condition.get("type") in ("Failed", "FailureTarget"):
            return "failed"
    return None


def workflow_verdict(workflow: dict[str, Any]) -> str | None:
    """``succeeded``, ``failed`` or None while the Argo Workflow runs."""
    phase = (workflow.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return "succeeded"
    if phase in ("Failed", "Error"):
        return "failed"
    return None


def pod_phase(pod: dict[str, Any]) -> str:
    return (pod.get("status") or {}).get("phase") or "Pending"


def pending_reason(pod: dict[str, Any]) -> str:
    """Why a pod has not finished, in the API's words (``pod x: Pending, Unschedulable: ...``)."""
    status = pod.get("status") or {}
    name = pod.get("metadata", {}).get("name", "?")
    words = [f"pod {name}: {pod_phase(pod)}"]
    for condition in status.get("conditions") or []:
        if condition.get("status") == "False" and condition.get("reason"):
            words.append(f"{condition['reason']}: {condition.get('message', '')}".rstrip(": "))
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            words.append(f"{container.get('name')} {waiting['reason']}")
    if len(words) == 1 and not (pod.get("spec") or {}).get("nodeName"):
        words.append("not scheduled on any node")
    return ", ".join(words)
