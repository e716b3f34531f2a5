"""Programs loaded before, read back without parsing their file again.

A ``samepack.yaml`` that loaded (parsed, checked against the schema, built) is remembered
under ``$SAMEPACK_HOME/cache/programs/`` by the sha256 of everything its loading depends on:
the file's bytes, its resolved path (the program records where it came from), and the loading
code itself (samepack's version, the program package's files, the installed PyYAML and
jsonschema, the registered formats). Loading the same file again reads the record, the JSON
of every field of the Program, instead of importing PyYAML and parsing (about a fifth of a
short run's cost). Any change to one of those is another digest, and the file is loaded
afresh. Only the native format is remembered: the other formats' translators may read files
beside the program file, which the digest does not cover. A store entry's canonical file is
remembered the same way, with the digest the entry was registered with in the key
(``Entry.program``), so a run of a registered program parses no YAML either.

A record is used only if it reads back to exactly the program it was made from (checked when
it is written, by comparing representations, so a type JSON cannot carry is never
remembered); a damaged or unreadable record is a miss. ``SAMEPACK_CACHE=off`` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, Iterable

from samepack import __version__
from samepack.cache import cache_enabled, module_fingerprint
from samepack.paths import PACKAGE_DIR, samepack_home
from samepack.program.model import (
    Dataset, Environment, MetricPattern, Parameter, Program, Resources, Schedule, SecretRef, Step,
)

CACHE_DIR = "programs"
MAX_RECORD_BYTES = 16 * 1024 * 1024
MAX_RECORDS = 256  # past this, the least recently written records are removed
RECORD_FORMAT = 1

# The fields that hold model objects: field -> (shape, class); every other field is plain data.
_NESTED: dict[type, dict[str, tuple[str, type]]] = {
    Program: {"steps": ("dict", Step), "environment": ("one", Environment),
              "resources": ("one", Resources), "parameters": ("dict", Parameter),
              "datasets": ("dict", Dataset), "secrets": ("list", SecretRef),
              "schedules": ("dict", Schedule)},
    Step: {"resources": ("one", Resources), "metrics": ("list", MetricPattern)},
}


def _plain(value: Any) -> Any:
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _built(cls: type, data: dict[str, Any]) -> Any:
    nested = _NESTED.get(cls, {})
    values = dict(data)
    for name, (shape, inner) in nested.items():
        if name not in values:
            continue
        value = values[name]
        if shape == "dict":
            values[name] = {key: _built(inner, item) for key, item in value.items()}
        elif shape == "list":
            values[name] = [_built(inner, item) for item in value]
        else:
            values[name] = _built(inner, value)
    return cls(**values)


def _code_fingerprint(context: Iterable[str]) -> bytes:
    """What else a load depends on: samepack's version and program package (its files' sizes
    and modification times: an edited checkout counts), PyYAML, jsonschema, and the caller's
    ``context`` (the formats a file is tried in, the digest a store entry must have)."""
    parts = [__version__, "\0".join(context),
             module_fingerprint("yaml") or "", module_fingerprint("jsonschema") or ""]
    with os.scandir(PACKAGE_DIR / "program") as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.endswith((".py", ".json")) and entry.is_file():
                status = entry.stat()
                parts.append(f"{entry.name}:{status.st_size}:{status.st_mtime_ns}")
    return "\n".join(parts).encode("utf-8")


def _record_path(path: Path, raw: bytes, context: Iterable[str]) -> Path:
    digest = hashlib.sha256(b"samepack loaded program\0")
    for piece in (_code_fingerprint(context), str(path).encode("utf-8"), raw):
        digest.update(len(piece).to_bytes(8, "big"))
        digest.update(piece)
    return samepack_home() / "cache" / CACHE_DIR / f"{digest.hexdigest()}.json"


def file_bytes(path: Path) -> bytes | None:
    """The bytes a program file is remembered by (None when it cannot be read or is larger
    than any program file that loads: the loader then says why)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_RECORD_BYTES + 1)
    except OSError:
        return None
    return raw if len(raw) <= MAX_RECORD_BYTES else None


def recall(path: Path, raw: bytes, context: Iterable[str]) -> Program | None:
    """The program remembered for the file at ``path`` (resolved) holding ``raw``,
    loaded in ``context``, or None."""
    if not cache_enabled():
        return None
    try:
        record = _record_path(path, raw, context)  # OSError: the package cannot be listed
        with open(record, "rb") as handle:
            text = handle.read(MAX_RECORD_BYTES + 1)
        if len(text) > MAX_RECORD_BYTES:
            return None
        data = json.loads(text)
        if data.get("format") != RECORD_FORMAT:
            return None
        return _built(Program, data["program"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def remember(path: Path, raw: bytes, context: Iterable[str], program: Program) -> None:
    """Remember ``program`` as what the file at ``path`` holding ``raw`` loads to (best
    effort: a program that does not read back exactly, or a cache that cannot be written, is
    simply not remembered)."""
    if not cache_enabled():
        return
    try:
        text = json.dumps({"format": RECORD_FORMAT, "program": _plain(program)},
                          ensure_ascii=False, allow_nan=True)
        if repr(_built(Program, json.loads(text)["program"])) != repr(program):
            return
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError):
        return
    try:
        record = _record_path(path, raw, context)
    except OSError:
        return
    temporary = record.with_name(f".{record.name}.{os.getpid()}")
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(text.encode("utf-8"))
        os.replace(temporary, record)
        _prune(record.parent)
    except OSError:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass


def _prune(directory: Path) -> None:
    """Keep the newest ``MAX_RECORDS`` records (a record removed is only loaded afresh)."""
    records = [entry for entry in os.scandir(directory) if entry.name.endswith(".json")]
    if len(records) <= MAX_RECORDS:
        return
    records.sort(key=lambda entry: entry.stat().st_mtime_ns)
    for entry in records[:len(records) - MAX_RECORDS]:
        try:
            os.unlink(entry.path)
        except OSError:
            pass
