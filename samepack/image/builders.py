"""Image builders behind one small interface: the Docker engine through the Docker SDK (and
through BuildKit when the build needs secrets), and buildah without a daemon. Each streams its
output line by line and returns the image's digest."""

from __future__ import annotations

import os
import shutil
import tempfile
from functools import cached_property
from pathlib import Path
from typing import Protocol

from samepack.errors import BuildError, RemoteError, ToolMissingError
from samepack.image.buildkit import BuildKitSearch, buildkit_build, find_buildkit_cli
from samepack.image.building import BuildRequest, BuildResult, OnLine, run_streaming
from samepack.image.record import split_tag

__all__ = ["BuildRequest", "BuildResult", "Builder", "BuildahBuilder", "DockerBuilder", "OnLine",
           "choose_builder"]


class Builder(Protocol):
    name: str
    passes_secrets: bool  # whether RUN --mount=type=secret works (no value in any layer)
    no_secrets_because: str  # why not, when it does not

    def build(self, request: BuildRequest, on_line: OnLine) -> BuildResult: ...

    def push(self, ref: str, on_line: OnLine) -> str:
        """Push ``ref``; return the manifest digest the registry stored."""


def is_loopback(ref: str) -> bool:
    host = ref.split("/", 1)[0] if "/" in ref else ""
    return host.split(":")[0] in {"localhost", "127.0.0.1", "[::1]"}


class DockerBuilder:
    """The Docker engine at ``DOCKER_HOST`` (or the default socket), through the Docker SDK."""

    name = "docker"

    def __init__(self, client) -> None:
        self.client = client

    @cached_property
    def buildkit(self) -> BuildKitSearch:
        """The docker CLI that runs BuildKit builds (the classic builder the SDK drives has no
        RUN --mount), looked for the first time a build needs secrets."""
        return find_buildkit_cli()

    @property
    def passes_secrets(self) -> bool:
        return self.buildkit.cli is not None

    @property
    def no_secrets_because(self) -> str:
        return f"BuildKit, which can, is not available ({self.buildkit.why_not})"

    @classmethod
    def connect(cls) -> "DockerBuilder | None":
        """A builder when a daemon answers, else None."""
        try:
            import docker
            client = docker.from_env(timeout=600)
            client.ping()
        except Exception:  # no SDK, no socket, daemon down: all mean "not available"
            return None
        return cls(client)

    def build(self, request: BuildRequest, on_line: OnLine) -> BuildResult:
        if request.secrets:
            if self.buildkit.cli is None:
                raise BuildError(f"docker build of {request.tag} needs build secrets, and "
                                 f"{self.no_secrets_because}",
                                 hint="build with --builder buildah, or install Docker's buildx")
            image_id = buildkit_build(self.buildkit.cli, request, on_line)
            return BuildResult(request.tag, image_id, self.name)
        return self._build_classic(request, on_line)

    def _build_classic(self, request: BuildRequest, on_line: OnLine) -> BuildResult:
        """The engine's classic builder through the SDK: build arguments only, no secrets."""
        image_id = None
        stream = self.client.api.build(
            path=str(request.context), tag=request.tag, rm=True, forcerm=True, pull=False,
            decode=True, network_mode=request.network,
            buildargs={"SOURCE_DATE_EPOCH": str(request.source_date_epoch)})
        for chunk in stream:
            if "error" in chunk:
                raise BuildError(f"docker build of {request.tag} failed: {chunk['error'].strip()}",
                                 hint="the build output above shows the failing step")
            if chunk.get("stream"):
                for line in chunk["stream"].splitlines():
                    on_line(line)
            image_id = (chunk.get("aux") or {}).get("ID", image_id)
        if not image_id:
            image_id = self.client.images.get(request.tag).id
        return BuildResult(request.tag, image_id, self.name)

    def push(self, ref: str, on_line: OnLine) -> str:
        repository, tag = split_tag(ref)
        digest = None
        for chunk in self.client.api.push(repository, tag=tag, stream=True, decode=True):
            if "error" in chunk:
                raise RemoteError(f"push of {ref} failed: {chunk['error'].strip()}",
                                  hint="check the registry address and `docker login`")
            if chunk.get("status") and "id" not in chunk:
                on_line(chunk["status"])
            digest = (chunk.get("aux") or {}).get("Digest", digest)
        if not digest:
            raise RemoteError(f"push of {ref}: the registry returned no digest")
        return digest


class BuildahBuilder:
    """buildah, daemonless. Storage and isolation come from buildah's own configuration
    (``CONTAINERS_STORAGE_CONF``, ``BUILDAH_ISOLATION``)."""

    name = "buildah"
    passes_secrets = True
    no_secrets_because = ""

    def __init__(self, executable: str) -> None:
        self.executable = executable

    @classmethod
    def find(cls) -> "BuildahBuilder | None":
        path = shutil.which("buildah")
        return cls(path) if path else None

    def _run(self, args: list[str], on_line: OnLine, failure: type, what: str) -> None:
        run_streaming([self.executable, *args], on_line, failure, what, "buildah")

    def build(self, request: BuildRequest, on_line: OnLine) -> BuildResult:
        with tempfile.TemporaryDirectory(prefix="samepack-buildah-") as scratch:
            iidfile = Path(scratch) / "iid"
            args = ["bud", "--timestamp", str(request.source_date_epoch), "--iidfile",
                    str(iidfile), "--build-arg", f"SOURCE_DATE_EPOCH={request.source_date_epoch}",
                    "-f", str(request.context / "Dockerfile"), "-t", request.tag]
            if request.network:
                args += ["--network", request.network]
            for variable in request.secrets:  # read from buildah's environment, ours
                args += ["--secret", f"id={variable},src={variable},type=env"]
            self._run([*args, str(request.context)], on_line, BuildError,
                      f"buildah build of {request.tag}")
            image_id = iidfile.read_text().strip()
        if not image_id.startswith("sha256:"):
            image_id = f"sha256:{image_id}"
        return BuildResult(request.tag, image_id, self.name)

    def push(self, ref: str, on_line: OnLine) -> str:
        with tempfile.TemporaryDirectory(prefix="samepack-buildah-") as scratch:
            digestfile = Path(scratch) / "digest"
            args = ["push", "--digestfile", str(digestfile)]
            if is_loopback(ref):
                args.append("--tls-verify=false")
            self._run([*args, ref, f"docker://{ref}"], on_line, RemoteError, f"push of {ref}")
            return digestfile.read_text().strip()


BUILDERS = ("docker", "buildah")


def choose_builder(wanted: str = "auto",
                   secrets: bool = False) -> DockerBuilder | BuildahBuilder:
    """The builder to use: the one asked for, or (``auto``) Docker when a daemon answers, else
    buildah when installed; buildah first when the build needs ``secrets``, which only it
    passes. Raises ToolMissingError saying what to install."""
    first_buildah = BuildahBuilder.find() if wanted == "auto" and secrets else None
    if first_buildah:
        return first_buildah
    if wanted in ("auto", "docker"):
        docker_builder = DockerBuilder.connect()
        if docker_builder:
            return docker_builder
        if wanted == "docker":
            where = os.environ.get("DOCKER_HOST", "the default socket")
            raise ToolMissingError(f"--builder docker: no Docker engine answers at {where}",
                                   hint="start dockerd (or set DOCKER_HOST), or use --builder buildah")
    buildah = BuildahBuilder.find()
    if buildah:
        return buildah
    if wanted == "buildah":
        raise ToolMissingError("--builder buildah: buildah is not installed",
                               hint="install buildah (apt-get install buildah)")
    raise ToolMissingError("no image builder: no Docker engine answers and buildah is not installed",
                           hint="install Docker (and start it) or buildah")
