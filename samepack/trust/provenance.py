"""SLSA provenance (v1 predicate) of an export, as an in-toto Statement, and the SBOM beside
it: both are members of the bundle's ``metadata`` part.

The provenance's subjects are the members of the ``program`` and ``env`` parts (what was
built); it records samepack's version, the source commit, the lock files' digests and the
program's image digest. It holds no clock but the bundle's own ``created`` time, so exports
stay byte-identical.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from samepack.trust.sbom import lock_components, render_sbom
from samepack.trust.statement import Statement, Subject

PROVENANCE = "metadata/provenance.intoto.json"
SBOM = "metadata/sbom.cdx.json"
ATTESTATION_PATHS = (PROVENANCE, SBOM)
SLSA_PREDICATE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://samepack.dev/export/v1"
BUILDER_ID = "https://samepack.dev/builder/samepack-export"


@dataclass(frozen=True)
class BuildFacts:
    """What an export knows about how its bundle came to be (gathered by the exporter)."""

    program: str
    version: str
    tool_version: str
    created: int
    subjects: list[tuple[str, str]]  # (member path, sha256) of the program and env parts
    lock_files: dict[str, bytes] = field(default_factory=dict)  # env member path -> bytes
    commit: str | None = None
    dirty: bool = False
    image: str | None = None  # the image reference, pinned by digest when known
    options: dict = field(default_factory=dict)


def _time(seconds: int) -> str:
    if not seconds:
        return ""
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _image_dependency(image: str) -> dict:
    name, _, digest = image.partition("@")
    dependency: dict = {"name": "image", "uri": f"docker://{image}"}
    if digest.startswith("sha256:"):
        dependency["digest"] = {"sha256": digest.removeprefix("sha256:")}
    return dependency


def provenance_statement(facts: BuildFacts) -> Statement:
    import hashlib

    dependencies: list[dict] = []
    if facts.commit:
        dependencies.append({"annotations": {"dirty": facts.dirty}, "digest":
                             {"gitCommit": facts.commit}, "name": "source"})
    for path, data in sorted(facts.lock_files.items()):
        dependencies.append({"digest": {"sha256": hashlib.sha256(data).hexdigest()},
                             "name": path})
    if facts.image:
        dependencies.append(_image_dependency(facts.image))
    metadata = {"startedOn": _time(facts.created)} if facts.created else {}
    predicate = {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {"program": f"{facts.program}:{facts.version}",
                                   **facts.options},
            "resolvedDependencies": dependencies,
        },
        "runDetails": {"builder": {"id": BUILDER_ID, "version": {"samepack": facts.tool_version}},
                       "metadata": metadata},
    }
    subjects = tuple(Subject(path, sha) for path, sha in sorted(facts.subjects))
    return Statement(subjects, SLSA_PREDICATE, predicate)


def attestation_members(facts: BuildFacts) -> dict[str, bytes]:
    """``{member path: bytes}`` of the provenance statement and the SBOM."""
    lock_texts = {path: data.decode("utf-8", "replace") for path, data in facts.lock_files.items()}
    sbom = render_sbom(facts.program, facts.version, facts.tool_version, _time(facts.created),
                       lock_components(lock_texts))
    statement = provenance_statement(facts).to_bytes() + b"\n"
    return {PROVENANCE: statement, SBOM: sbom}


def provenance_of_verified(members: dict[str, bytes]) -> dict | None:
    """The provenance statement (as JSON) among verified bundle members, if there is one."""
    raw = members.get(PROVENANCE)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
