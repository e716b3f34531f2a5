"""in-toto Statements (v1) about a bundle, as pure functions.

A bundle's statement names two subjects when it can: the bundle manifest
(``samepack-bundle.json``, whose digest fixes every part and member and is the OCI config's
digest once pushed) and the bundle file itself (what ``cosign verify-blob-attestation`` checks).
Verification needs the manifest subject only: it is the same on every route, file, registry,
extracted directory or import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from samepack.bundle.format.manifest import MANIFEST_NAME
from samepack.errors import VerificationError

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
BUNDLE_PREDICATE = "https://samepack.dev/bundle/v1"


@dataclass(frozen=True)
class Subject:
    name: str
    sha256: str  # hex

    def as_json(self) -> dict:
        return {"digest": {"sha256": self.sha256}, "name": self.name}


@dataclass(frozen=True)
class Statement:
    subjects: tuple[Subject, ...]
    predicate_type: str
    predicate: dict

    def to_bytes(self) -> bytes:
        data = {"_type": STATEMENT_TYPE, "predicate": self.predicate,
                "predicateType": self.predicate_type,
                "subject": [s.as_json() for s in self.subjects]}
        return json.dumps(data, separators=(",", ":"), sort_keys=True,
                          ensure_ascii=False).encode("utf-8")

    def manifest_digest(self) -> str | None:
        """The sha256 of the bundle manifest this statement is about, if it names one."""
        for subject in self.subjects:
            if subject.name == MANIFEST_NAME:
                return subject.sha256
        return None


def parse_statement(payload: bytes, where: str) -> Statement:
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise _bad(where, "is not JSON") from None
    if not isinstance(data, dict) or data.get("_type") != STATEMENT_TYPE:
        raise _bad(where, f"is not an in-toto Statement ({STATEMENT_TYPE})")
    subjects = []
    for index, item in enumerate(data.get("subject") or []):
        digest = item.get("digest") if isinstance(item, dict) else None
        sha = digest.get("sha256") if isinstance(digest, dict) else None
        if not isinstance(sha, str) or not isinstance(item.get("name"), str):
            raise _bad(where, f"subject[{index}] has no name and sha256 digest")
        subjects.append(Subject(item["name"], sha))
    predicate = data.get("predicate")
    return Statement(tuple(subjects), str(data.get("predicateType", "")),
                     predicate if isinstance(predicate, dict) else {})


def _bad(where: str, what: str) -> VerificationError:
    return VerificationError(f"{where}: the signed payload {what}",
                             "sign the bundle again with `samepack sign`")
