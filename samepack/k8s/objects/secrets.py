"""The Secrets a program references, filled from the deploying machine's environment (never from
a bundle). Values go into ``data`` (base64), applied by one field manager, so re-applying with
new values updates them instead of conflicting."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Mapping

from samepack.k8s.objects.names import dns_name, program_labels
from samepack.k8s.objects.pod import secret_key
from samepack.program.model import Program, SecretRef


@dataclass
class SecretPlan:
    objects: list[dict[str, Any]] = field(default_factory=list)
    missing: list[SecretRef] = field(default_factory=list)  # no value in the environment


def secret_objects(program: Program, namespace: str, environ: Mapping[str, str]) -> SecretPlan:
    """One Secret per referenced name, with the values found in ``environ``."""
    plan = SecretPlan()
    grouped: dict[str, dict[str, str]] = {}
    for ref in sorted(program.secrets, key=lambda r: (r.name, r.env)):
        value = environ.get(ref.env)
        if value is None:
            plan.missing.append(ref)
            continue
        encoded = base64.b64encode(value.encode("utf-8")).decode("ascii")
        grouped.setdefault(dns_name(ref.name, limit=253), {})[secret_key(ref.key, ref.env)] = encoded
    for name, data in grouped.items():
        plan.objects.append({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": program_labels(program.name, program.version)},
            "data": dict(sorted(data.items()))})
    return plan
