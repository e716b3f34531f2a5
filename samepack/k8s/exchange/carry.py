"""Local data sets carried to the cluster. A data set with only a project ``path`` has no URI a
pod could fetch, so ``deploy`` and ``run --target k8s`` carry its file:

- up to ``CARRY_LIMIT`` in a ConfigMap (``binaryData``) of its own, which the data set's init
  container copies into the data set's claim, checking its sha256 (``samepack.k8s.objects.pod``);
- larger, through the exchange registry (``samepack.k8s.exchange.transfer``): the file goes up as the
  blob named by its sha256 and the init container downloads that blob by digest, checking it
  as it streams. Without a registry such a data set is reported, not carried.

A ConfigMap holds at most 1 MiB, hence the limit."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samepack.errors import VerificationError
from samepack.history.files import sha256_file
from samepack.k8s.objects.names import dns_name, program_labels
from samepack.k8s.objects.pod import carried_file, carry_config_map, is_local
from samepack.k8s.exchange.transfer import ClusterRegistry
from samepack.program.model import Program

CARRY_LIMIT = 768 * 1024  # bytes; base64 and the object's own fields must stay under 1 MiB


@dataclass
class CarryPlan:
    objects: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # data sets that cannot be carried, why
    # data set -> (blob URL, sha256) of the files that went through the registry
    pulled: dict[str, tuple[str, str]] = field(default_factory=dict)


def needs_registry(program: Program, workdir: Path) -> bool:
    """Whether a local data set's file is too large for a ConfigMap (so only a registry can
    carry it)."""
    for dataset in program.datasets.values():
        path = workdir / (dataset.path or "")
        if (is_local(dataset) and dataset.path and path.is_file()
                and path.stat().st_size > CARRY_LIMIT):
            return True
    return False


def carried_datasets(program: Program, workdir: Path, namespace: str,
                     registry: ClusterRegistry | None = None, dry_run: bool = False) -> CarryPlan:
    """A ConfigMap per local data set whose file is in ``workdir`` and small enough; with a
    ``registry``, larger files uploaded there (only named, with ``dry_run``). Apply the plan's
    ``pulled`` to the rendered objects with ``fetch_from_registry``."""
    plan = CarryPlan()
    for name in sorted(program.datasets):
        dataset = program.datasets[name]
        if not is_local(dataset):
            continue
        claim = f"claim {program.name}-data-{name}"
        path = workdir / (dataset.path or "")
        if not dataset.path or not path.is_file():
            plan.problems.append(f"data set {name} has no URI and its file {path} is not here: "
                                 f"put the file on the volume of {claim} yourself")
            continue
        digest = sha256_file(path)
        if dataset.sha256 and digest != dataset.sha256:
            raise VerificationError(f"data set {name}: sha256 of {path} does not match the "
                                    f"program's {dataset.sha256[:12]}...",
                                    hint=f"restore the file, or update datasets.{name}.sha256")
        size = path.stat().st_size
        if size <= CARRY_LIMIT:
            plan.objects.append(_config_map(program, name, namespace, path.read_bytes()))
        elif registry is not None:
            url = (registry.blob_url(f"sha256:{digest}") if dry_run
                   else registry.push_file(path, digest))
            plan.pulled[name] = (url, digest)
        else:
            plan.problems.append(f"data set {name} has no URI and its file is {size} bytes, "
                                 f"more than the {CARRY_LIMIT} a ConfigMap can carry: give "
                                 f"--registry oci://HOST/REPO to carry it through a registry, "
                                 f"give it a uri, or put the file on the volume of {claim} "
                                 f"yourself")
    return plan


def _config_map(program: Program, name: str, namespace: str, data: bytes) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": carry_config_map(program, name), "namespace": namespace,
                         "labels": program_labels(program.name, program.version, name)},
            "binaryData": {carried_file(program, name): base64.b64encode(data).decode("ascii")}}


def fetch_from_registry(objects: list[dict[str, Any]],
                        pulled: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    """``objects`` with each pulled data set's init container downloading its blob (URL and
    digest in place of the carried file), wherever a pod template holds it (Job, CronJob,
    Argo Workflow). The objects are changed in place and returned."""
    containers = {dns_name("fetch", name): source for name, source in pulled.items()}

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for container in node.get("initContainers") or []:
                if not isinstance(container, dict):
                    continue
                source = containers.get(container.get("name"))
                command = container.get("command") if source else None
                if source and isinstance(command, list) and len(command) == 6:
                    command[3], command[5] = source
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(objects)
    return objects
