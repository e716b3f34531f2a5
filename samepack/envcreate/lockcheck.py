"""What a run with a cached environment needs of a lock: its files checked against the
sha256 recorded in ``.samepack/env.json``, and where its packages come from. Apart from the
builder, so that a run whose environment exists loads nothing that builds one."""

from __future__ import annotations

from pathlib import Path

from samepack.envfiles.envjson import EnvRecord, sha256_file
from samepack.errors import VerificationError
from samepack.lock.indexes import IndexOptions


def verify_lock_files(project_dir: Path, record: EnvRecord) -> None:
    for name, digest in sorted(record.files.items()):
        path = project_dir / name
        if not path.is_file():
            raise VerificationError(f"{name}: missing, but the lock record lists it",
                                    hint="restore it, or run `samepack package-env` again")
        if sha256_file(path) != digest:
            raise VerificationError(f"{name}: does not match the sha256 in .samepack/env.json",
                                    hint="it was edited after locking; run `samepack package-env`")


def locked_index(record: EnvRecord, given: IndexOptions) -> IndexOptions:
    """The index options given here, then those the project declared when it was locked
    (its relative find-links are relative to the project; none of its remote places when
    ``--no-index`` is given here)."""
    return given.over(IndexOptions.from_json(record.index.get("project")))
