"""``samepack build``: build the project's image with Docker or buildah and record its digest."""

from __future__ import annotations

from pathlib import Path

import click

from samepack.commands.jsonmode import emit, json_option
from samepack.console import err, info, out


@click.command("build")
@click.argument("target", default=".", metavar="[PATH|NAME:VERSION]")
@click.option("--tag", "-t", help="Image reference to build (default samepack/NAME:VERSION).")
@click.option("--push", is_flag=True, help="Push the image to the registry named in --tag.")
@click.option("--builder", type=click.Choice(["auto", "docker", "buildah"]), default="auto",
              show_default=True, help="Docker engine (DOCKER_HOST) or daemonless buildah.")
@click.option("--base-image", metavar="REF", help="Build on this image instead of the chosen one.")
@click.option("--network", type=click.Choice(["host", "none"]),
              help="Network for RUN steps (host: reach the package index from the build).")
@click.option("--wheelhouse", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Install the lock offline from these wheels (copied into the build).")
@json_option()
def build(target: str, tag: str | None, push: bool, builder: str, base_image: str | None,
          network: str | None, wheelhouse: Path | None, as_json: bool) -> None:
    """Build a container image for a project from its lock.

    Renders a Dockerfile (kept in .samepack/build/), builds it, optionally pushes it, and
    records the image digest in .samepack/env.json.
    """
    from samepack.image.build import BuildOptions, build_image
    from samepack.image.project import gather_facts, resolve_project

    if push and not tag:
        raise click.UsageError("--push needs --tag naming the registry, e.g. "
                               "--tag 127.0.0.1:5000/team/wine:1.0")
    facts = gather_facts(resolve_project(target))
    options = BuildOptions(tag=tag, push=push, builder=builder, base_image=base_image,
                           network=network, wheelhouse=wheelhouse.resolve() if wheelhouse else None)
    info(f"building {facts.name}:{facts.version} from {facts.root}")
    record = build_image(facts, options, lambda line: err.print(f"  {line}", markup=False,
                                                                highlight=False))
    if as_json:
        emit({"ok": True, "ref": record.ref, "digest": record.digest, "builder": record.builder,
              "image_id": record.image_id, "base": record.base, "pushed": record.pushed,
              "pinned": record.pinned()})
        return
    out.print(f"built {record.ref} with {record.builder}", highlight=False)
    out.print(f"digest {record.digest}", highlight=False)
    if record.pushed:
        out.print(f"pushed {record.pinned()}", highlight=False)
