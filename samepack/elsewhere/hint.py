"""The one-line hint after "this machine falls short": where the program can run instead."""

from __future__ import annotations

import os
from pathlib import Path


def kube_context() -> str | None:
    """The current context of the kubeconfig kubectl would use, or None (nothing configured).
    Read only: no cluster is contacted."""
    import yaml

    paths = [Path(p) for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p] \
        or [Path.home() / ".kube" / "config"]
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and isinstance(data.get("current-context"), str) \
                and data["current-context"]:
            return data["current-context"]
    return None


def project_program_name(project: Path) -> str | None:
    """The name of the project's program, when it has one that loads."""
    from samepack.errors import SamepackError
    from samepack.program.loader import load_program

    try:
        return load_program(project, show_warnings=False).name
    except (SamepackError, OSError):
        return None


def elsewhere_hint(program: str | None, override: str) -> str:
    """``run it where it fits: ...; or pass OVERRIDE to go on here`` naming a configured
    cluster when there is one, and ``samepack devcontainer`` (a Codespace or any devcontainer
    host sized from the program's resources)."""
    name = program or "PROGRAM"
    places = []
    context = kube_context()
    if context:
        places.append(f"on the cluster of context {context}: `samepack run --target k8s "
                      f"program {name}`")
    places.append("on a Codespace or devcontainer host that fits: `samepack devcontainer` "
                  "writes .devcontainer/devcontainer.json sized for it")
    return f"run it where it fits, {'; or '.join(places)}; or pass {override} to go on here"
