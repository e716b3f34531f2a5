"""Local data sets carried to the cluster. A data set with only a project ``path`` has no URI a
pod could fetch, so ``deploy`` and ``run --target k8s`` carry its file in a ConfigMap
(``binaryData``) of its own; the data set's init container copies it into the data set's claim
and checks its sha256 (``samepack.k8s.pod``). A ConfigMap holds at most 1 MiB, so files up to
``CARRY_LIMIT`` are carried; a larger one needs a ``uri``."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samepack.errors import VerificationError
from samepack.k8s.names import program_labels
from samepack.k8s.pod import carried_file, carry_config_map, is_local
from samepack.program.model import Program

CARRY_LIMIT = 768 * 1024  # bytes; base64 and the object's own fields must stay under 1 MiB


@dataclass
class CarryPlan:
    objects: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # data sets that cannot be carried, why


def carried_datasets(program: Program, workdir: Path, namespace: str) -> CarryPlan:
    """A ConfigMap per local data set whose file is in ``workdir`` and small enough."""
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
        data = path.read_bytes()
        if dataset.sha256 and hashlib.sha256(data).hexdigest() != dataset.sha256:
            raise VerificationError(f"data set {name}: sha256 of {path} does not match the "
                                    f"program's {dataset.sha256[:12]}...",
                                    hint="restore the file, or update datasets.{name}.sha256")
        if len(data) > CARRY_LIMIT:
            plan.problems.append(f"data set {name} has no URI and its file is {len(data)} bytes, "
                                 f"more than the {CARRY_LIMIT} a ConfigMap can carry: give it a "
                                 f"uri, or put the file on the volume of {claim} yourself")
            continue
        plan.objects.append({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": carry_config_map(program, name), "namespace": namespace,
                         "labels": program_labels(program.name, program.version, name)},
            "binaryData": {carried_file(program, name): base64.b64encode(data).decode("ascii")}})
    return plan
