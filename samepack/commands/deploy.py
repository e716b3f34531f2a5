"""``samepack deploy``: put a registered program (or a bundle) on a Kubernetes cluster."""

from __future__ import annotations

from pathlib import Path

import click

from samepack.console import info, out, warn
from samepack.k8s.validate import DEFAULT_KUBERNETES_VERSION


def _entry(target: str):
    """The store entry for ``NAME[:VERSION]``, or for a bundle file (imported first)."""
    path = Path(target)
    if path.is_file():
        from samepack.bundle import import_bundle

        info(f"importing {path}")
        return import_bundle(path)
    from samepack.store import Store

    return Store().get(target)


def entry_manifests(entry, namespace: str | None) -> list[dict]:
    """The entry's ``infra/`` manifests (rendered now when it has none), moved to ``namespace``."""
    from samepack.image.record import read_image
    from samepack.k8s import render_manifests
    from samepack.k8s.dump import load_manifests
    from samepack.k8s.plan import retarget

    infra = Path(entry.path) / "infra"
    files = sorted(infra.rglob("*.yaml")) if infra.is_dir() else []
    objects = [obj for file in files for obj in load_manifests(file.read_text(encoding="utf-8"))]
    if not objects:
        record = read_image(Path(entry.workdir))
        objects = render_manifests(entry.program, image=record.pinned() if record else None)
    return retarget(objects, namespace) if namespace else objects


def deploy_entry(entry, *, context: str | None = None, namespace: str | None = None,
                 dry_run: bool = False, kubernetes_version: str = DEFAULT_KUBERNETES_VERSION) -> None:
    """Deploy a store entry and print what happened (``samepack import --cluster`` uses it)."""
    from samepack.k8s.cluster import Cluster
    from samepack.k8s.deploy import DeployRequest, deploy

    from samepack.k8s import validate_manifests

    objects = entry_manifests(entry, namespace)
    validate_manifests(objects, kubernetes_version)  # before any cluster is asked
    for name, dataset in sorted(entry.program.datasets.items()):
        if not (dataset.uri and "://" in dataset.uri):
            warn(f"data set {name} has no URI: put its file on the volume of claim "
                 f"{entry.program.name}-data-{name} yourself")
    cluster = Cluster.connect(context)
    request = DeployRequest(entry.program, objects, dry_run=dry_run,
                            kubernetes_version=kubernetes_version)
    outcome = deploy(cluster, request, info)
    for diff in outcome.diffs:
        out.print(diff, end="", markup=False, highlight=False)
    for name in outcome.unchanged:
        out.print(f"unchanged {name}", highlight=False)
    if dry_run:
        out.print(f"dry run: {len(outcome.diffs)} to change, {len(outcome.unchanged)} unchanged",
                  highlight=False)
    else:
        out.print(f"deployed {entry.program.ref}: {len(outcome.applied)} objects applied",
                  highlight=False)


@click.command("deploy")
@click.argument("target", metavar="NAME:VERSION|BUNDLE")
@click.option("--context", help="kubeconfig context (default: the current one).")
@click.option("--namespace", "-n", help="Namespace to deploy into (default: the program's name).")
@click.option("--dry-run", is_flag=True, help="Ask the server what would change; change nothing.")
@click.option("--kubernetes-version", default=DEFAULT_KUBERNETES_VERSION, show_default=True,
              help="Validate the manifests against this Kubernetes version.")
def deploy(target: str, context: str | None, namespace: str | None, dry_run: bool,
           kubernetes_version: str) -> None:
    """Apply a program's Kubernetes manifests (server-side apply, field manager samepack).

    Checks first that every step fits on some node, creates the Secrets the program references
    from your environment, and runs the step Jobs in dependency order.
    """
    deploy_entry(_entry(target), context=context, namespace=namespace, dry_run=dry_run,
                 kubernetes_version=kubernetes_version)
