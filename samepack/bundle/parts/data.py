"""``data/pointers.json``: where each data set of a program lives and what it hashes to, and
the data files themselves under ``data/files/`` with ``--include-data``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samepack.bundle.format.manifest import Member, canonical_json
from samepack.bundle.read.safety import check_name
from samepack.bundle.parts.secrets import redact
from samepack.bundle.write.writer import Source, file_mode
from samepack.errors import SamepackError
from samepack.program.model import Dataset, Program

POINTERS = "data/pointers.json"
FILES = "data/files/"
POINTERS_FORMAT = 1
_READ = 1024 * 1024


@dataclass
class LocalData:
    """A data set and the local file holding it, if any."""

    dataset: Dataset
    file: Path | None
    member: str | None  # data/files/... when the file is safe to include


def member_for(path: str | None) -> str | None:
    if not path:
        return None
    try:
        check_name(FILES + path)
    except SamepackError:
        return None
    return FILES + path


def locate(program: Program, roots: list[Path]) -> list[LocalData]:
    """Each data set with the first local file found for its ``path`` under ``roots``."""
    found = []
    for name in sorted(program.datasets):
        dataset = program.datasets[name]
        file = None
        for root in roots if dataset.path and member_for(dataset.path) else []:
            candidate = root / dataset.path
            if candidate.is_file() and not candidate.is_symlink():
                file = candidate
                break
        found.append(LocalData(dataset, file, member_for(dataset.path)))
    return found


def hash_file(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while data := handle.read(_READ):
            digest.update(data)
            size += len(data)
    return size, digest.hexdigest()


def pointer(local: LocalData, known: dict[str, tuple[int, str]], included: bool
            ) -> dict[str, Any]:
    """One entry of pointers.json; ``known`` maps a dataset path to (size, sha256) already
    computed while writing (code or data members)."""
    data = local.dataset.to_dict()
    data["name"] = local.dataset.name
    if local.file is not None:
        size, sha = known.get(local.dataset.path) or hash_file(local.file)
        data.update(size=size, sha256=sha)
        if local.dataset.sha256 and local.dataset.sha256 != sha:
            data["declared_sha256"] = local.dataset.sha256
    if included and local.file is not None and local.member:
        data["member"] = local.member
    return data


def pointers_bytes(entries: list[dict[str, Any]]) -> bytes:
    return canonical_json({"format": POINTERS_FORMAT, "datasets": entries}) + b"\n"


def data_sources(locals_: list[LocalData], include: bool, code_members: list[Member],
                 warnings: list[str] | None = None) -> list[Source]:
    """The data part: the files (with ``include``) and pointers.json, which is produced after
    them so their hashes are reused instead of read again. Without data sets there is no
    data part."""
    if not locals_:
        return []
    sources = [Source(d.member, file_mode(d.file), file=d.file)
               for d in locals_ if include and d.file is not None and d.member]

    def produce(written: list[Member]) -> bytes:
        known = {m.path.removeprefix("code/"): (m.size, m.sha256) for m in code_members}
        known.update({m.path.removeprefix(FILES): (m.size, m.sha256) for m in written})
        notes: list[str] = []
        entries = [redact(pointer(d, known, include), f"dataset {d.dataset.name}", notes)
                   for d in locals_]
        if warnings is not None:
            warnings.extend(f"redacted in {POINTERS}: {note}" for note in notes)
        for entry in entries:
            if "declared_sha256" in entry and warnings is not None:
                warnings.append(f"dataset {entry['name']}: {entry.get('path')} does not match "
                                "the program's sha256; the bundle records what it holds now")
        return pointers_bytes(entries)

    sources.append(Source(POINTERS, 0o644, produce=produce))
    return sources


def read_pointers(raw: bytes) -> list[dict[str, Any]]:
    """The data set entries of a pointers.json."""
    import json

    data = json.loads(raw)
    return list(data.get("datasets", [])) if isinstance(data, dict) else []
