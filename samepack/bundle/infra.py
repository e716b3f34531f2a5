"""``infra/``: the program's Kubernetes manifests, rendered by ``samepack.k8s`` and validated
strictly for a chosen Kubernetes version."""

from __future__ import annotations

from pathlib import Path

from samepack.bundle.parts import tree_sources
from samepack.bundle.writer import Source
from samepack.errors import ToolMissingError
from samepack.program.model import Program

MANIFESTS = "infra/manifests.yaml"


def _validation_available() -> bool:
    try:
        import kubernetes_validate  # noqa: F401
    except ImportError:
        return False
    return True


def infra_sources(program: Program, image: str | None, k8s_version: str | None,
                  imported: list[str] | None, root: Path) -> tuple[list[Source], list[str]]:
    """The infra part and any warnings. An imported program keeps the manifests it came with
    (``imported``: their paths under ``root``) unless a Kubernetes version is asked for."""
    if imported is not None and k8s_version is None:
        return tree_sources(root, "infra", imported), []
    from samepack.k8s import render_manifests, validate_manifests
    from samepack.k8s.dump import dump_manifests
    from samepack.k8s.validate import DEFAULT_KUBERNETES_VERSION

    objects = render_manifests(program, image=image)
    warnings = []
    if _validation_available():
        validate_manifests(objects, k8s_version or DEFAULT_KUBERNETES_VERSION)
    elif k8s_version:
        raise ToolMissingError("kubernetes-validate is not installed: --k8s-version needs it",
                               hint="pip install 'samepack[kubernetes]'")
    else:
        warnings.append("infra/ manifests were not validated (kubernetes-validate missing)")
    return [Source(MANIFESTS, 0o644, data=dump_manifests(objects).encode("utf-8"))], warnings
