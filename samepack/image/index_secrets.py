"""The credentials a lock's index lines need inside the image build.

A lock names a private index as ``https://user:${SAMEPACK_INDEX_HOST_PASSWORD}@host/simple``
(:mod:`samepack.lock.credentials`); uv expands the reference from its environment when it reads
the lock. In the build that environment comes from build secrets: each variable is mounted
into the install step alone (``RUN --mount=type=secret``), exported there and gone with it, so
its value enters no layer, no Dockerfile and no build argument. Before anything is built each
variable is checked to be set here, and an error names the lock line that needs it; a lock
holding a literal credential (a hand-made one: samepack never writes one) is refused, since
the context's copy of it would stay in the install stage's layer, which the Docker engine keeps
as build cache.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from samepack.errors import InputError
from samepack.lock.credentials import credential_names, masked, without_credentials

_REMOTE = re.compile(r"^\s*(?P<flag>--index-url|-i|--extra-index-url|--find-links|-f)"
                     r"(?:\s*=\s*|\s+)(?P<value>\S+)")
_NO_INDEX = re.compile(r"^\s*--no-index\s*$")
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_INDEX_FLAGS = ("--index-url", "-i", "--extra-index-url")


@dataclass(frozen=True)
class IndexSecret:
    """A variable the install reads, and the lock line that names it."""

    variable: str
    line: int  # 1-based
    option: str  # the line as written: it holds the ``${VAR}`` reference, never a value


def refuse_literal_credentials(lock_text: str, lock_file: Path) -> None:
    """Raise InputError naming the first option line of the lock whose URL holds a literal
    credential, and the ``${VAR}`` form to write instead (named with the lock's other URLs,
    as ``package-env`` names them)."""
    options = [(number, line, match.group("value"))
               for number, line in enumerate(lock_text.splitlines(), start=1)
               if (match := _REMOTE.match(line))]
    names = credential_names([value for _, _, value in options])
    for number, line, value in options:
        safe, variables = without_credentials(value, names)
        if variables:
            raise InputError(f"{lock_file} line {number}: {masked(line.strip())} holds a "
                             "credential, which the build's install stage would keep with the lock",
                             hint=f"write it as {safe} and export {' and '.join(variables)}, "
                                  "or run `samepack package-env`, which writes it so")


def index_secrets(lock_text: str) -> tuple[IndexSecret, ...]:
    """The ``${VAR}`` references of the lock's remote places the install would ask, each
    variable once (at its first line). A lock with ``--no-index`` asks no index URL."""
    lines = lock_text.splitlines()
    no_index = any(_NO_INDEX.match(line) for line in lines)
    found: dict[str, IndexSecret] = {}
    for number, line in enumerate(lines, start=1):
        match = _REMOTE.match(line)
        if not match or "://" not in match.group("value"):
            continue
        if no_index and match.group("flag") in _INDEX_FLAGS:
            continue
        for variable in _VARIABLE.findall(match.group("value")):
            found.setdefault(variable, IndexSecret(variable, number, line.strip()))
    return tuple(found.values())


def check_secrets_set(secrets: tuple[IndexSecret, ...], lock_file: Path,
                      environ: Mapping[str, str] = os.environ) -> None:
    """Raise InputError naming the first variable the build needs that is not set here."""
    for secret in secrets:
        if not environ.get(secret.variable):
            raise InputError(f"{lock_file} line {secret.line}: {secret.option} needs "
                             f"{secret.variable}, which is not set",
                             hint=f"export {secret.variable}=... (that index's credential) and "
                                  "build again; the build mounts it as a secret, no image layer "
                                  "keeps it; or install offline with --wheelhouse DIR")


def secrets_refused(secrets: tuple[IndexSecret, ...], lock_file: Path,
                    because: str) -> InputError:
    """The error for a builder that cannot pass build secrets: the Docker engine's classic
    builder, which the Docker SDK drives, has only build arguments, kept in the image, and
    BuildKit (``because`` says why) is not there to mount them."""
    first = secrets[0]
    return InputError(f"{lock_file} line {first.line}: {first.option} needs {first.variable} "
                      "inside the build, and the Docker engine's classic builder can pass it only "
                      f"as a build argument, which the image keeps; {because}",
                      hint="build with --builder buildah, or give the docker CLI BuildKit (the "
                           "buildx component, and DOCKER_BUILDKIT not 0): either mounts the "
                           "variable as a build secret; or download the packages on the host "
                           "and build with --wheelhouse DIR")
