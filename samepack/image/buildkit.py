"""Builds on the Docker engine through BuildKit, for a lock whose install needs credentials.

The Docker SDK drives the engine's classic builder, which has build arguments only (the image
keeps them) and no ``RUN --mount=type=secret``. BuildKit, the engine's other builder, mounts a
secret into the one ``RUN`` that asks for it; the SDK cannot start it (its client side is a
session the CLI holds open), so these builds run the ``docker`` CLI with ``DOCKER_BUILDKIT=1``
against the engine the SDK talks to.

The secret's source is the variable itself (``--secret id=VAR,env=VAR``) for a CLI that reads
one (20.10 and later); an older CLI reads only files, so each value goes into a 0600 file of a
private 0700 folder outside the build context, removed when the build ends.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

from samepack.errors import BuildError
from samepack.image.building import BuildRequest, OnLine, run_streaming

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"  # where the Docker SDK looks without DOCKER_HOST
ENV_SECRETS_SINCE = (20, 10)  # the first CLI whose --secret reads env=VAR
_FALSE = {"0", "f", "false", "no", "off"}
_VERSION = re.compile(r"(\d+)\.(\d+)")


@dataclass(frozen=True)
class BuildKitCli:
    """A ``docker`` CLI whose ``build`` runs on BuildKit and takes ``--secret``."""

    executable: str
    version: tuple[int, int]

    @property
    def reads_env_secrets(self) -> bool:
        return self.version >= ENV_SECRETS_SINCE


@dataclass(frozen=True)
class BuildKitSearch:
    """The CLI found, or why there is none (for the refusal)."""

    cli: BuildKitCli | None
    why_not: str = ""


def _docker_executables(path: str) -> list[str]:
    """Each distinct ``docker`` executable on ``path``, in order."""
    found: list[str] = []
    seen: set[str] = set()
    for folder in path.split(os.pathsep):
        candidate = shutil.which("docker", path=folder) if folder else None
        if candidate and os.path.realpath(candidate) not in seen:
            seen.add(os.path.realpath(candidate))
            found.append(candidate)
    return found


def _probe(executable: str) -> tuple[BuildKitCli | None, str]:
    """Whether ``executable``'s build runs on BuildKit with secrets: its BuildKit help lists
    ``--secret`` (a CLI 23+ without the buildx component says so instead)."""
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    try:
        helped = subprocess.run([executable, "build", "--help"], env=env, capture_output=True,
                                text=True, errors="replace", timeout=30)
        versioned = subprocess.run([executable, "--version"], env=env, capture_output=True,
                                   text=True, errors="replace", timeout=30)
    except (OSError, subprocess.TimeoutExpired) as failed:
        return None, f"{executable}: {failed}"
    version = _VERSION.search(versioned.stdout)
    if "--secret" in helped.stdout and version:
        return BuildKitCli(executable, (int(version.group(1)), int(version.group(2)))), ""
    said = [line.strip() for line in (helped.stderr + helped.stdout).splitlines() if line.strip()]
    reason = said[0].removeprefix("ERROR: ") if said and helped.returncode else "no --secret"
    return None, f"{executable}: {reason}"


def find_buildkit_cli(environ: Mapping[str, str] = os.environ) -> BuildKitSearch:
    """The first ``docker`` on PATH that builds with BuildKit and secrets; none when
    ``DOCKER_BUILDKIT`` turns BuildKit off, as it does for ``docker build``."""
    switch = environ.get("DOCKER_BUILDKIT", "").strip().lower()
    if switch in _FALSE:
        return BuildKitSearch(None, f"DOCKER_BUILDKIT={environ['DOCKER_BUILDKIT']} turns it off")
    executables = _docker_executables(environ.get("PATH", os.defpath))
    if not executables:
        return BuildKitSearch(None, "no docker CLI is on PATH")
    reasons = []
    for executable in executables:
        cli, reason = _probe(executable)
        if cli:
            return BuildKitSearch(cli)
        reasons.append(reason)
    return BuildKitSearch(None, "; ".join(reasons))


@contextmanager
def secret_arguments(cli: BuildKitCli, variables: tuple[str, ...],
                     environ: Mapping[str, str] = os.environ) -> Iterator[list[str]]:
    """The ``--secret`` arguments for ``variables``; with a file-only CLI, the files exist
    (0600, in a 0700 folder of their own) until the block ends."""
    if cli.reads_env_secrets or not variables:
        yield [f"--secret=id={name},env={name}" for name in variables]
        return
    folder = Path(tempfile.mkdtemp(prefix="samepack-secrets-"))  # mkdtemp makes it 0700
    try:
        arguments = []
        for name in variables:
            path = folder / name
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as stream:
                stream.write(environ[name])
            arguments.append(f"--secret=id={name},src={path}")
        yield arguments
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def buildkit_build(cli: BuildKitCli, request: BuildRequest, on_line: OnLine) -> str:
    """Build ``request`` with BuildKit on the engine the Docker SDK uses; return the image id."""
    env = {**os.environ, "DOCKER_BUILDKIT": "1",
           "DOCKER_HOST": os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST,
           # a CLI that builds through buildx takes the builder of the engine at DOCKER_HOST,
           # not one the user selected elsewhere (whose image would not reach the engine)
           "BUILDX_BUILDER": "default"}
    with tempfile.TemporaryDirectory(prefix="samepack-buildkit-") as scratch:
        iidfile = Path(scratch) / "iid"
        argv = [cli.executable, "build", "--progress=plain", f"--iidfile={iidfile}",
                f"--build-arg=SOURCE_DATE_EPOCH={request.source_date_epoch}",
                f"--tag={request.tag}"]
        if request.network:
            argv.append(f"--network={request.network}")
        with secret_arguments(cli, request.secrets) as secrets:
            run_streaming([*argv, *secrets, str(request.context)], on_line, BuildError,
                          f"docker build (BuildKit) of {request.tag}", "docker", env=env)
        image_id = iidfile.read_text().strip() if iidfile.is_file() else ""
    if not image_id.startswith("sha256:"):
        raise BuildError(f"docker build (BuildKit) of {request.tag} wrote no image id",
                         hint="the build output above shows what happened")
    return image_id
