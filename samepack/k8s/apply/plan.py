"""Pure helpers for applying a set of objects: moving them to another namespace, splitting a
dry run between the server and client-side validation, and showing what would change."""

from __future__ import annotations

import copy
import difflib
from typing import Any, Iterable

from samepack.k8s.api.dump import dump_manifests
from samepack.k8s.api.validate import describe

CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
                  "PersistentVolume", "StorageClass", "PriorityClass"}
_SERVER_FIELDS = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
                  "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences",
                  "generateName")
# What the Job controller adds to a Job's selector and pod labels (its uid and name).
_JOB_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid", "job-name",
               "batch.kubernetes.io/job-name")


def namespace_of(objects: Iterable[dict[str, Any]]) -> str | None:
    for obj in objects:
        if obj["kind"] == "Namespace":
            return obj["metadata"]["name"]
    return None


def retarget(objects: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """Copies of ``objects`` moved into ``namespace`` (the Namespace object renamed too, and
    RoleBinding subjects that pointed at the old namespace)."""
    old = namespace_of(objects)
    moved = []
    for obj in copy.deepcopy(objects):
        if obj["kind"] == "Namespace":
            obj["metadata"]["name"] = namespace
        elif obj["kind"] not in CLUSTER_SCOPED:
            obj["metadata"]["namespace"] = namespace
        for subject in obj.get("subjects", []):
            if subject.get("namespace") == old:
                subject["namespace"] = namespace
        moved.append(obj)
    return moved


def split_dry_run(objects: list[dict[str, Any]], namespace_exists: bool) -> tuple[list, list]:
    """(objects the server can dry-run, objects only validated locally). A server dry run of an
    object in a namespace that does not exist yet fails with ``namespaces "X" not found``, so
    while the namespace is missing only cluster-scoped objects go to the server."""
    if namespace_exists:
        return list(objects), []
    server = [obj for obj in objects if obj["kind"] in CLUSTER_SCOPED]
    local = [obj for obj in objects if obj["kind"] not in CLUSTER_SCOPED]
    return server, local


def comparable(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    """``obj`` without what the server adds (status, uid, managed fields, ...)."""
    if obj is None:
        return None
    clean = copy.deepcopy(obj)
    clean.pop("status", None)
    meta = clean.get("metadata", {})
    for key in _SERVER_FIELDS:
        meta.pop(key, None)
    annotations = meta.get("annotations") or {}
    annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    if "annotations" in meta and not annotations:
        meta.pop("annotations")
    if clean.get("kind") == "Job":
        spec = clean.get("spec") or {}
        spec.pop("selector", None)
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        for key in _JOB_LABELS:
            labels.pop(key, None)
    return clean


def object_diff(live: dict[str, Any] | None, proposed: dict[str, Any],
                name: str | None = None) -> str:
    """A unified diff of the live object and what applying would leave (``""``: no change)."""
    before = dump_manifests([comparable(live)]) if live is not None else ""
    after = dump_manifests([comparable(proposed)])
    name = name or describe(proposed)
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"live/{name}" if live else "/dev/null",
                                 tofile=f"applied/{name}")
    return "".join(lines)


def removal_diff(live: dict[str, Any], why: str) -> str:
    """A unified diff showing ``live`` removed."""
    before = dump_manifests([comparable(live)])
    name = f"{live['kind']}/{live['metadata']['name']}"
    lines = difflib.unified_diff(before.splitlines(keepends=True), [],
                                 fromfile=f"live/{name}", tofile=f"/dev/null (removed: {why})")
    return "".join(lines)
