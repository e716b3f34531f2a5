"""``infra/``: the program's Kubernetes manifests, rendered by ``samepack.k8s`` and validated
strictly for a chosen Kubernetes version."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from samepack.bundle.parts.selection import tree_sources
from samepack.bundle.write.writer import Source
from samepack.cache import DigestSet, module_fingerprint
from samepack.errors import ToolMissingError
from samepack.program.model import Program

MANIFESTS = "infra/manifests.yaml"


def _validate_once(objects: list[dict], version: str, fingerprint: str) -> None:
    """Validate ``objects``, unless these exact objects passed for ``version`` with this
    kubernetes-validate before (:mod:`samepack.cache`)."""
    text = json.dumps([objects, version, fingerprint], sort_keys=True, separators=(",", ":"))
    record = hashlib.sha256(text.encode("utf-8")).digest()
    known = DigestSet.load("k8s-validated")
    if record in known:
        return
    from samepack.k8s import validate_manifests

    validate_manifests(objects, version)
    known.add([record])


def infra_sources(program: Program, image: str | None, k8s_version: str | None,
                  imported: list[str] | None, root: Path) -> tuple[list[Source], list[str]]:
    """The infra part and any warnings. An imported program keeps the manifests it came with
    (``imported``: their paths under ``root``) unless a Kubernetes version is asked for."""
    if imported is not None and k8s_version is None:
        return tree_sources(root, "infra", imported), []
    from samepack.k8s.api.dump import dump_manifests
    from samepack.k8s.objects.render import render_manifests
    from samepack.k8s.api.validate import DEFAULT_KUBERNETES_VERSION

    objects = render_manifests(program, image=image)
    warnings = []
    fingerprint = module_fingerprint("kubernetes_validate")  # without importing it (slow)
    if fingerprint is not None:
        _validate_once(objects, k8s_version or DEFAULT_KUBERNETES_VERSION, fingerprint)
    elif k8s_version:
        raise ToolMissingError("kubernetes-validate is not installed: --k8s-version needs it",
                               hint="pip install 'samepack[kubernetes]'")
    else:
        warnings.append("infra/ manifests were not validated (kubernetes-validate missing)")
    return [Source(MANIFESTS, 0o644, data=dump_manifests(objects).encode("utf-8"))], warnings
