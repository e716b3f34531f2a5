"""Apply order: what others refer to goes first (Namespace, then accounts, configuration and
storage, then workloads). Within a kind the given order is kept, so Jobs stay in dependency
order."""

from __future__ import annotations

from typing import Any

KIND_ORDER = ["Namespace", "CustomResourceDefinition", "ServiceAccount", "Role", "RoleBinding",
              "ConfigMap", "Secret", "PersistentVolumeClaim", "Job", "CronJob",
              "WorkflowTemplate", "Workflow", "CronWorkflow"]


def kind_rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def sort_objects(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``objects`` in apply order (stable within a kind)."""
    return sorted(objects, key=lambda obj: kind_rank(obj["kind"]))
