"""Checks on what a bundle's members say — the program file, the run history, the data
pointers — once their bytes matched the manifest. ``verify``, ``inspect`` and ``import`` all
apply them, before anything is registered, so a bundle ``verify`` passes is one ``import``
takes, and a bundle ``import`` refuses leaves nothing behind.

The members are reached through two functions, so the same checks run on a staging directory
(import) and on members captured in memory (verify): ``read(path)`` gives a member's bytes
and ``is_file(path)`` tells whether the bundle holds a file of that name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

from samepack.bundle.format.manifest import Manifest
from samepack.bundle.read.safety import shown
from samepack.errors import InputError, VerificationError

PROGRAM_FILE = "program/samepack.yaml"
RUNS = "metadata/runs.jsonl"
POINTERS = "data/pointers.json"
CHECKED = (PROGRAM_FILE, RUNS, POINTERS)
MAX_METADATA_BYTES = 64 * 1024 * 1024
_HINT = "the bundle was altered or crafted; export it again from its source"
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

Read = Callable[[str], bytes]
IsFile = Callable[[str], bool]


@dataclass
class Contents:
    """What the checked members hold."""

    program: Any  # samepack.program.model.Program
    runs: list[dict[str, Any]] = field(default_factory=list)
    pointers: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Listed:
    """What the checks need of the manifest: the program it names and the sizes of the
    members checked here (small enough to send from the process that verified the bundle)."""

    name: str
    version: str
    sizes: dict[str, int]

    @classmethod
    def of(cls, manifest: Manifest) -> "Listed":
        return cls(manifest.name, manifest.version,
                   {m.path: m.size for m in manifest.members() if m.path in CHECKED})


def check_contents(listed: Listed, read: Read, is_file: IsFile) -> Contents:
    """The program, run history and data pointers of a verified bundle, each checked; a
    VerificationError naming the member and the field at the first defect."""
    sizes = listed.sizes
    for path, size in sizes.items():
        if size > MAX_METADATA_BYTES:
            raise VerificationError(f"{path}: {size} bytes, over the limit of "
                                    f"{MAX_METADATA_BYTES} for this member", hint=_HINT)
    if PROGRAM_FILE not in sizes:
        raise VerificationError(f"the bundle has no {PROGRAM_FILE}",
                                hint="export it again with `samepack export program`")
    program = parse_program(read(PROGRAM_FILE), (listed.name, listed.version))
    runs = parse_runs(read(RUNS)) if RUNS in sizes else []
    pointers = parse_pointers(read(POINTERS), is_file) if POINTERS in sizes else []
    _check_placement(program, is_file)
    return Contents(program, runs, pointers)


def parse_program(raw: bytes, listed: tuple[str, str]):
    """The bundled program file, loaded with the program reader's own bounds and schema, and
    naming the program the manifest lists."""
    from samepack.program.samepack_format import load_samepack_yaml
    from samepack.program.yamlsource import MAX_FILE_BYTES, parse_yaml

    if len(raw) > MAX_FILE_BYTES:
        raise VerificationError(f"{PROGRAM_FILE}: {len(raw)} bytes, too large for a program "
                                "file", hint=_HINT)
    try:
        text = raw.decode("utf-8")
        program = load_samepack_yaml(Path(PROGRAM_FILE), parse_yaml(text, PROGRAM_FILE))
    except UnicodeDecodeError:
        raise VerificationError(f"{PROGRAM_FILE}: not UTF-8 text", hint=_HINT) from None
    except InputError as error:  # FILE:LINE: field: message, from the program reader
        raise VerificationError(error.message, hint=error.hint or _HINT) from None
    if (program.name, program.version) != listed:
        raise VerificationError(f"{PROGRAM_FILE} names {shown(program.ref)}, the manifest "
                                f"{listed[0]}:{listed[1]}", hint=_HINT)
    return program


def _json(raw: bytes, where: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as error:  # not UTF-8, not JSON, an integer of 4,300+ digits
        raise VerificationError(f"{where}: not valid JSON ({str(error)[:120]})",
                                hint=_HINT) from None
    except RecursionError:
        raise VerificationError(f"{where}: nested too deeply", hint=_HINT) from None


# What each field of a run record may hold, read from the record classes themselves so a new
# field is checked the day it is added: "str | None" -> (str, None), "dict[...]" -> dict.
_KINDS = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
          "None": (type(None),), "dict": (dict,), "list": (list,), "Literal": (str,),
          "RunStatus": (str,)}


def _allowed(annotation: str) -> tuple[type, ...]:
    kinds: tuple[type, ...] = ()
    for option in str(annotation).split("|"):
        kinds += _KINDS.get(option.strip().split("[", 1)[0], (object,))
    return kinds


def _check_fields(data: Any, cls: type, where: str, extra: tuple[str, ...] = ()) -> None:
    """``data`` is an object whose keys are fields of ``cls`` (or ``extra``), each value of
    the field's type."""
    if not isinstance(data, dict):
        raise VerificationError(f"{where}: not a JSON object", hint=_HINT)
    known = {f.name: f for f in fields(cls)}
    for key, value in data.items():
        if key in extra:
            continue
        spec = known.get(key)
        if spec is None:
            raise VerificationError(f"{where}: unknown field {shown(ascii(key))}", hint=_HINT)
        kinds = _allowed(spec.type)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise VerificationError(f"{where}.{key}: a {type(value).__name__}, not what a run "
                                    "record holds there", hint=_HINT)


def parse_runs(raw: bytes) -> list[dict[str, Any]]:
    """``metadata/runs.jsonl``: one run record per line, each of the shape the history
    stores (so restoring it cannot fail half-way)."""
    from samepack.history.records import MetricPoint, RunRecord, StepRecord

    records = []
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{RUNS}:{number}"
        data = _json(line, where)
        _check_fields(data, RunRecord, where, extra=("format",))
        if not isinstance(data.get("id"), str) or not _RUN_ID.fullmatch(data["id"]):
            raise VerificationError(f"{where}.id: missing or not a plain run id", hint=_HINT)
        for index, step in enumerate(data.get("steps") or []):
            _check_fields(step, StepRecord, f"{where}.steps[{index}]")
        for name, value in (data.get("metrics") or {}).items():
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise VerificationError(f"{where}.metrics: {shown(ascii(name))} is not a "
                                        "number", hint=_HINT)
        for name, points in (data.get("metric_series") or {}).items():
            if not isinstance(points, list):
                raise VerificationError(f"{where}.metric_series: {shown(ascii(name))} is not "
                                        "a list", hint=_HINT)
            for index, point in enumerate(points):
                _check_fields(point, MetricPoint, f"{where}.metric_series[{index}]")
        try:
            RunRecord.from_dict(data)
        except (TypeError, ValueError) as error:
            raise VerificationError(f"{where}: not a run record ({str(error)[:120]})",
                                    hint=_HINT) from None
        records.append(data)
    return records


_POINTER_FIELDS = {"name": str, "path": str, "uri": str, "member": str, "sha256": str,
                   "declared_sha256": str, "size": int, "description": str}


def parse_pointers(raw: bytes, is_file: IsFile) -> list[dict[str, Any]]:
    """``data/pointers.json``: ``{"format": 1, "datasets": [...]}``, each entry named, each
    ``member`` one of the bundle's data files."""
    data = _json(raw, POINTERS)
    if not isinstance(data, dict) or not isinstance(data.get("datasets", []), list):
        raise VerificationError(f"{POINTERS}: not an object with a list of datasets",
                                hint=_HINT)
    entries = data.get("datasets", [])
    for index, entry in enumerate(entries):
        where = f"{POINTERS}: datasets[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise VerificationError(f"{where} is not an object with a name", hint=_HINT)
        for key, kind in _POINTER_FIELDS.items():
            value = entry.get(key)
            if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
                raise VerificationError(f"{where}.{key} is not a {kind.__name__}", hint=_HINT)
        member = entry.get("member")
        if member is not None and not (member.startswith("data/") and is_file(member)):
            raise VerificationError(f"{where}.member {shown(ascii(member))} is not a data "
                                    "file of the bundle", hint=_HINT)
    return entries


def _check_placement(program, is_file: IsFile) -> None:
    """A bundled data file is also linked at ``code/<path>`` on import: no folder on the way
    there may be one of the bundle's files."""
    from samepack.bundle.parts.data import member_for

    for name, dataset in sorted(program.datasets.items()):
        member = member_for(dataset.path)
        if member is None or not is_file(member):
            continue
        parts = ("code/" + dataset.path).split("/")
        for depth in range(2, len(parts)):
            folder = "/".join(parts[:depth])
            if is_file(folder):
                raise VerificationError(f"{PROGRAM_FILE}: datasets.{name}.path "
                                        f"{shown(dataset.path)!r} lies under {folder!r}, "
                                        "which is a file of the bundle", hint=_HINT)
