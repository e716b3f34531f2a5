"""``samepack undeploy``: remove what samepack applied for a program, found by its labels
(``app.kubernetes.io/managed-by=samepack`` and the program's name, one version if asked),
runs' objects included. Volume claims hold data, so they (and the namespace) go only with
``purge``."""

from __future__ import annotations

from typing import Callable

from samepack.errors import NotFoundError
from samepack.k8s.objects.argo import ARGO_API
from samepack.k8s.apply.deploy import PRUNABLE, program_selector
from samepack.k8s.objects.names import label_value

CLAIMS = ("v1", "PersistentVolumeClaim")


def undeploy(cluster, name: str, version: str | None, namespace: str, *, purge: bool = False,
             dry_run: bool = False, report: Callable[[str], None] = lambda line: None) -> list[str]:
    """Delete the program's objects in ``namespace``; what was (or would be) removed."""
    selector = program_selector(name)
    if version:
        selector += f",app.kubernetes.io/version={label_value(version)}"
    kinds = [(ARGO_API, "Workflow"), (ARGO_API, "CronWorkflow")] if cluster.serves(ARGO_API, "Workflow") else []
    kinds += [("batch/v1", "CronJob"), *PRUNABLE, *([CLAIMS] if purge else [])]
    exists = cluster.get("v1", "Namespace", namespace) is not None
    found = [(api_version, kind, item["metadata"]["name"])
             for api_version, kind in dict.fromkeys(kinds) if exists
             for item in cluster.list(api_version, kind, namespace, selector)]
    if not found:
        what = f"{name}:{version}" if version else name
        raise NotFoundError(f"nothing of {what} is deployed in namespace {namespace}",
                            hint="name the namespace it went to with --namespace")
    removed = []
    for api_version, kind, object_name in found:
        if not dry_run:
            cluster.delete(api_version, kind, object_name, namespace)
        removed.append(f"{kind}/{object_name}")
        report(f"{'would remove' if dry_run else 'removed'} {kind}/{object_name}")
    live = cluster.get("v1", "Namespace", namespace)
    labels = ((live or {}).get("metadata") or {}).get("labels") or {}
    ours = all(f"{key}={labels.get(key)}" in selector.split(",")
               for key in ("app.kubernetes.io/managed-by", "app.kubernetes.io/name"))
    if purge and not version and ours:
        if not dry_run:
            cluster.delete("v1", "Namespace", namespace, wait=0)
        removed.append(f"Namespace/{namespace}")
        report(f"{'would remove' if dry_run else 'removed'} Namespace/{namespace}")
    return removed
