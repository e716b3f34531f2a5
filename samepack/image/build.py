"""``samepack build`` without the CLI: render the Dockerfile, stage the context, build, push,
record. Each stage is a function; this module only wires them."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from samepack.console import warn
from samepack.envfiles.atomic import write_atomic
from samepack.errors import ToolMissingError
from samepack.image.base import BaseImage, choose_base_image
from samepack.image.builders import BuildRequest, OnLine, choose_builder
from samepack.image.context import ContextPlan, StagedContext, stage_context
from samepack.image.dockerfile import (
    DockerfileInputs, apt_packages, render_dockerfile, render_dockerignore,
)
from samepack.image.index_secrets import IndexSecret, check_secrets_set, secrets_refused
from samepack.image.project import ProjectFacts
from samepack.image.record import ImageRecord, record_image
from samepack.k8s.objects.names import dns_name, image_tag

BUILD_DIR = Path(".samepack") / "build"


@dataclass(frozen=True)
class BuildOptions:
    tag: str | None = None
    push: bool = False
    builder: str = "auto"
    base_image: str | None = None
    network: str | None = None
    wheelhouse: Path | None = None


@dataclass(frozen=True)
class Rendered:
    base: BaseImage
    dockerfile: str
    dockerignore: str


def default_tag(facts: ProjectFacts) -> str:
    return f"samepack/{dns_name(facts.name)}:{image_tag(facts.version)}"


def build_secrets(facts: ProjectFacts, options: BuildOptions) -> tuple[IndexSecret, ...]:
    """The credentials the install reads: none offline from a wheelhouse (``--no-index``)."""
    return () if options.wheelhouse is not None else facts.index_secrets


def render_for(facts: ProjectFacts, options: BuildOptions) -> Rendered:
    """The Dockerfile and .dockerignore of a project (pure)."""
    base = choose_base_image(python=facts.python, gpu=facts.gpu, cuda_versions=facts.cuda,
                             override=options.base_image)
    inputs = DockerfileInputs(
        name=facts.name, version=facts.version, base=base, lock_name=facts.lock_file.name,
        apt_packages=apt_packages(list(facts.system_libraries), base),
        wheelhouse=options.wheelhouse is not None, source_date_epoch=facts.source_date_epoch,
        index_secrets=tuple(secret.variable for secret in build_secrets(facts, options)),
        source=facts.source, revision=facts.revision)
    ignore = render_dockerignore(list(facts.data_paths), list(facts.user_ignore))
    return Rendered(base, render_dockerfile(inputs), ignore)


def write_rendered(facts: ProjectFacts, rendered: Rendered) -> Path:
    """Leave the Dockerfile and .dockerignore in ``.samepack/build/`` for the user to read."""
    target = facts.root / BUILD_DIR
    write_atomic(target / "Dockerfile", rendered.dockerfile)
    write_atomic(target / ".dockerignore", rendered.dockerignore)
    return target / "Dockerfile"


def _plan(facts: ProjectFacts, rendered: Rendered, options: BuildOptions) -> ContextPlan:
    from uv import find_uv_bin

    return ContextPlan(project=facts.root, dockerfile=rendered.dockerfile,
                       dockerignore=rendered.dockerignore, lock_file=facts.lock_file,
                       uv_binary=Path(find_uv_bin()), wheelhouse=options.wheelhouse,
                       lock_folders=facts.lock_folders, mtime=facts.source_date_epoch)


def _say_withheld(staged: StagedContext) -> None:
    for rel, why in staged.withheld:
        warn(f"{rel} is left out of the image: it holds a {why}; write the value as "
             "${VAR} (pip and uv expand it) or pass it at run time")


def _leave_context(facts: ProjectFacts, rendered: Rendered, options: BuildOptions) -> Path:
    """Stage the context into ``.samepack/build/context`` (replacing an older one) for a
    user who will build it with their own tools."""
    final = facts.root / BUILD_DIR / "context"
    staging = Path(tempfile.mkdtemp(prefix=".context-", dir=final.parent))
    _say_withheld(stage_context(_plan(facts, rendered, options), staging))
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    return final


def build_image(facts: ProjectFacts, options: BuildOptions, on_line: OnLine) -> ImageRecord:
    """Build (and push) the project's image; record it in ``.samepack/env.json``."""
    secrets = build_secrets(facts, options)
    rendered = render_for(facts, options)
    dockerfile = write_rendered(facts, rendered)
    try:
        builder = choose_builder(options.builder, secrets=bool(secrets))
    except ToolMissingError as missing:
        context = _leave_context(facts, rendered, options)
        raise ToolMissingError(missing.message, hint=f"{missing.hint}; the Dockerfile is in "
                               f"{dockerfile} and a ready build context in {context}") from None
    if secrets and not builder.passes_secrets:
        raise secrets_refused(secrets, facts.lock_file, builder.no_secrets_because)
    check_secrets_set(secrets, facts.lock_file)
    tag = options.tag or default_tag(facts)
    with tempfile.TemporaryDirectory(prefix="samepack-context-") as scratch:
        _say_withheld(stage_context(_plan(facts, rendered, options), Path(scratch)))
        request = BuildRequest(Path(scratch), tag, options.network, facts.source_date_epoch,
                               secrets=tuple(secret.variable for secret in secrets))
        result = builder.build(request, on_line)
    digest = builder.push(tag, on_line) if options.push else result.image_id
    record = ImageRecord(ref=tag, digest=digest, builder=builder.name, image_id=result.image_id,
                         base=rendered.base.ref, pushed=options.push)
    record_image(facts.root, record)
    return record
