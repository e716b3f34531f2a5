"""``samepack deploy`` and ``samepack undeploy``: put a registered program (or a bundle) on a
Kubernetes cluster, and take it off again."""

from __future__ import annotations

from pathlib import Path

import click

from samepack.commands.jsonmode import emit, json_option
from samepack.console import info, out, warn
from samepack.k8s.api.validate import DEFAULT_KUBERNETES_VERSION


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
    from samepack.k8s.api.dump import load_manifests
    from samepack.k8s.apply.plan import retarget

    infra = Path(entry.path) / "infra"
    files = sorted(infra.rglob("*.yaml")) if infra.is_dir() else []
    objects = [obj for file in files for obj in load_manifests(file.read_text(encoding="utf-8"))]
    if not objects:
        record = read_image(Path(entry.workdir))
        objects = render_manifests(entry.program, image=record.pinned() if record else None)
    return retarget(objects, namespace) if namespace else objects


def _print_outcome(program_ref: str, outcome, dry_run: bool) -> None:
    for diff in outcome.diffs:
        out.print(diff, end="", markup=False, highlight=False)
    for name in outcome.unchanged:
        out.print(f"unchanged {name}", highlight=False)
    if dry_run:
        out.print(f"dry run: {len(outcome.diffs)} to change, {len(outcome.unchanged)} unchanged",
                  highlight=False)
        return
    extra = [f"{len(outcome.replaced)} replaced"] if outcome.replaced else []
    extra += [f"{len(outcome.removed)} removed"] if outcome.removed else []
    extra += [f"{len(outcome.pending)} Jobs left for the next deploy"] if outcome.pending else []
    out.print(f"deployed {program_ref}: {len(outcome.applied)} objects applied"
              + (f" ({', '.join(extra)})" if extra else ""), highlight=False)


def deploy_entry(entry, *, context: str | None = None, namespace: str | None = None,
                 dry_run: bool = False, kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
                 wait: bool = True, timeout: float | None = None, prune: bool = True,
                 registry: str | None = None, show: bool = True):
    """Deploy a store entry and print what happened on stdout unless not ``show`` (``--json``);
    returns the outcome (``samepack import --cluster`` uses it too). ``registry`` (else
    ``$SAMEPACK_K8S_REGISTRY``) carries data sets too large for a ConfigMap."""
    from samepack.errors import InputError
    from samepack.k8s.objects.argo import ARGO_API, with_argo
    from samepack.k8s.api.cluster import Cluster
    from samepack.k8s.apply.deploy import JOB_TIMEOUT, DeployRequest, argo_schemas, deploy
    from samepack.k8s.apply.plan import namespace_of

    from samepack.k8s import validate_manifests

    from samepack.k8s.exchange.carry import carried_datasets, fetch_from_registry, needs_registry
    from samepack.k8s.exchange.transfer import open_registry

    objects = entry_manifests(entry, namespace)
    # the registry of $SAMEPACK_K8S_REGISTRY only when a data set needs it
    wanted = registry or needs_registry(entry.program, Path(entry.workdir))
    exchange = open_registry(registry) if wanted else None
    try:
        carried = carried_datasets(entry.program, Path(entry.workdir),
                                   namespace_of(objects) or "default", exchange, dry_run)
    finally:
        if exchange:
            exchange.close()
    for problem in carried.problems:
        warn(problem)
    objects = fetch_from_registry(objects + carried.objects, carried.pulled)
    validate_manifests(objects, kubernetes_version)  # before any cluster is asked
    cluster = Cluster.connect(context)
    schemas = None
    if len(entry.program.steps) > 1 and cluster.serves(ARGO_API, "Workflow"):
        info("the cluster serves Argo Workflows: the steps run as one Workflow")
        objects = fetch_from_registry(with_argo(entry.program, objects,
                                                namespace_of(objects) or "default"),
                                      carried.pulled)
        schemas = argo_schemas(cluster)
    request = DeployRequest(entry.program, objects, dry_run=dry_run,
                            kubernetes_version=kubernetes_version, wait=wait,
                            timeout=JOB_TIMEOUT if timeout is None else timeout, prune=prune,
                            crd_schemas=schemas)
    try:
        outcome = deploy(cluster, request, info)
    finally:
        cluster.close()
    if show:
        _print_outcome(entry.program.ref, outcome, dry_run)
    if outcome.missing:
        more = f" (and {len(outcome.missing) - 1} more)" if len(outcome.missing) > 1 else ""
        env = outcome.missing[0].split(": ", 1)[1].split(" ", 1)[0]
        raise InputError(f"dry run: {outcome.missing[0]}{more}; the deploy would stop there",
                         hint=f"export {env}=... before deploying (values come from your "
                              f"environment, never from a bundle)")
    return outcome


def _wait_options(function):
    function = click.option("--no-wait", is_flag=True,
                            help="Do not wait for Jobs: apply what can start now; a later "
                                 "deploy applies the steps that need them.")(function)
    return click.option("--timeout", type=click.FloatRange(min=0), metavar="SECONDS",
                        help="Wait at most this long for each Job other steps need "
                             "(default: 24 h).")(function)


@click.command("deploy")
@click.argument("target", metavar="NAME:VERSION|BUNDLE")
@click.option("--context", help="kubeconfig context (default: the current one).")
@click.option("--namespace", "-n", help="Namespace to deploy into (default: the program's name).")
@click.option("--dry-run", is_flag=True, help="Ask the server what would change; change nothing.")
@click.option("--kubernetes-version", default=DEFAULT_KUBERNETES_VERSION, show_default=True,
              help="Validate the manifests against this Kubernetes version.")
@click.option("--keep-old", is_flag=True,
              help="Keep objects of other versions of the program (default: remove them).")
@click.option("--registry", metavar="oci://HOST/REPO",
              help="Carry data sets over 768 KiB through this registry: pushed by digest, "
                   "pulled and checked by the pods (default $SAMEPACK_K8S_REGISTRY).")
@_wait_options
@json_option()
def deploy(target: str, context: str | None, namespace: str | None, dry_run: bool,
           kubernetes_version: str, keep_old: bool, registry: str | None,
           timeout: float | None, no_wait: bool, as_json: bool) -> None:
    """Apply a program's Kubernetes manifests (server-side apply, field manager samepack).

    Checks first that every step fits on some node, creates the Secrets the program references
    from your environment, and runs the step Jobs in dependency order (as one Argo Workflow when
    the cluster serves Argo). Jobs whose pod template changed, and failed Jobs, are replaced;
    objects an earlier version left are removed unless --keep-old.
    """
    entry = _entry(target)
    outcome = deploy_entry(entry, context=context, namespace=namespace, dry_run=dry_run,
                           kubernetes_version=kubernetes_version, wait=not no_wait,
                           timeout=timeout, prune=not keep_old, registry=registry,
                           show=not as_json)
    if as_json:
        emit({"ok": True, "program": entry.program.ref, "dry_run": dry_run,
              **outcome.to_dict()})


@click.command("undeploy")
@click.argument("target", metavar="NAME[:VERSION]")
@click.option("--context", help="kubeconfig context (default: the current one).")
@click.option("--namespace", "-n", help="Namespace it was deployed into (default: the program's name).")
@click.option("--purge", is_flag=True,
              help="Also delete the volume claims (workspace, data sets) and the namespace.")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def undeploy(target: str, context: str | None, namespace: str | None, purge: bool,
             dry_run: bool) -> None:
    """Remove what samepack applied for a program, found by its labels (one version with
    NAME:VERSION). Volume claims, and so the data on them, stay unless --purge."""
    from samepack.k8s.api.cluster import Cluster
    from samepack.k8s.objects.names import dns_name
    from samepack.k8s.apply.undeploy import undeploy as remove

    name, _, version = target.partition(":")
    cluster = Cluster.connect(context)
    try:
        removed = remove(cluster, name, version or None, namespace or dns_name(name),
                         purge=purge, dry_run=dry_run, report=info)
    finally:
        cluster.close()
    verb = "would remove" if dry_run else "removed"
    out.print(f"{verb} {len(removed)} objects of {target}", highlight=False)
