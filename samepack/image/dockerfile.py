"""Dockerfile and .dockerignore text from a dataclass of inputs: pure, golden-tested."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache

import jinja2

from samepack import __version__
from samepack.image.base import BaseImage
from samepack.paths import templates_dir

RUN_AS_UID = 1000  # the Kubernetes pods run as this uid too (samepack.k8s.objects.pod.RUN_AS)
RUN_AS_USER = "samepack"


@dataclass(frozen=True)
class DockerfileInputs:
    """Everything the Dockerfile depends on; the same inputs give the same text."""

    name: str
    version: str
    base: BaseImage
    lock_name: str = "requirements.txt"
    apt_packages: tuple[str, ...] = ()
    wheelhouse: bool = False
    index_secrets: tuple[str, ...] = ()  # variables the install reads from build secrets
    source_date_epoch: int = 0
    source: str | None = None  # repository URL
    revision: str | None = None  # commit
    extra_labels: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def labels(self) -> dict[str, str]:
        """OCI annotations as image labels, sorted by key."""
        created = datetime.fromtimestamp(self.source_date_epoch, timezone.utc)
        labels = {
            "org.opencontainers.image.created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "org.opencontainers.image.title": self.name,
            "org.opencontainers.image.version": self.version,
            "org.opencontainers.image.base.name": self.base.ref,
            "dev.samepack.program": f"{self.name}:{self.version}",
        }
        if self.source:
            labels["org.opencontainers.image.source"] = self.source
        if self.revision:
            labels["org.opencontainers.image.revision"] = self.revision
        labels.update(dict(self.extra_labels))
        return dict(sorted(labels.items()))


@lru_cache(maxsize=None)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
    env.filters["dq"] = json.dumps  # a double-quoted string Dockerfile LABEL accepts
    return env


def apt_packages(system_libraries: list[str], base: BaseImage) -> tuple[str, ...]:
    """The Debian/Ubuntu packages to install: the scan's libraries, plus the certificates the
    download of Python needs when the base has none; sorted, without duplicates."""
    packages = set(system_libraries)
    if base.install_python:
        packages.add("ca-certificates")
    return tuple(sorted(packages))


def render_dockerfile(inputs: DockerfileInputs) -> str:
    """The Dockerfile text for ``inputs``."""
    template = _environment().get_template("Dockerfile.j2")
    return template.render(
        samepack_version=__version__, name=inputs.name, version=inputs.version,
        base=inputs.base, lock_name=inputs.lock_name, apt_packages=inputs.apt_packages,
        wheelhouse=inputs.wheelhouse, index_secrets=inputs.index_secrets,
        source_date_epoch=inputs.source_date_epoch,
        labels=inputs.labels(), uid=RUN_AS_UID, user=RUN_AS_USER)


def render_dockerignore(data_paths: list[str] = (), user_patterns: list[str] = ()) -> str:  # type: ignore[assignment]
    """The .dockerignore text: secrets, data (the program's data-set paths too) and clutter,
    then the project's own patterns."""
    template = _environment().get_template("dockerignore.j2")
    return template.render(data_paths=sorted(set(data_paths)), user_patterns=list(user_patterns))
