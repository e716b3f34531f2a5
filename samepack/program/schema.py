"""The shipped JSON Schema of ``samepack.yaml`` and its errors as ``FILE:LINE: field: message``.

A document that passed is remembered by the digest of the document, the schema and the
installed jsonschema (:mod:`samepack.cache`): running the same program again does not load
jsonschema, which alone costs a run about 0.1 s. Any change to one of the three is a new digest
and the document is checked again; a document that fails is never remembered.
"""

from __future__ import annotations

import hashlib
import json
import marshal
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Callable

from samepack.cache import DigestSet, module_fingerprint
from samepack.errors import InputError

if TYPE_CHECKING:  # jsonschema is imported only when a file is validated (it is slow to load)
    import jsonschema


CACHE_SET = "program-schema"


@lru_cache(maxsize=1)
def _schema_bytes() -> bytes:
    return resources.files("samepack.program").joinpath("schema.json").read_bytes()


@lru_cache(maxsize=1)
def program_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) shipped as ``samepack/program/schema.json``."""
    return json.loads(_schema_bytes())


def _passed_record(data: Any) -> bytes | None:
    """What a pass of ``data`` is remembered by: the sha256 of the schema, the validator and
    the document, or None when one of them cannot be pinned down (the document is then simply
    checked). The document is serialised by marshal, which reads back what it wrote, so two
    documents that differ never share a record (JSON would merge 1 and "1" as keys, a tuple
    and a list); YAML's dates and other values marshal does not know are pickled."""
    validator = module_fingerprint("jsonschema")
    if validator is None:
        return None
    try:
        document = b"m" + marshal.dumps(data)
    except ValueError:
        import pickle

        try:
            document = b"p" + pickle.dumps(data, protocol=5)
        except Exception:  # something that does not pickle: no record, the check runs
            return None
    digest = hashlib.sha256(b"samepack program schema\0")
    for piece in (_schema_bytes(), validator.encode("utf-8"), document):
        digest.update(len(piece).to_bytes(8, "big"))
        digest.update(piece)
    return digest.digest()


def _message(error: "jsonschema.ValidationError") -> str:
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return f"unknown field (allowed here: {allowed})"
    if error.validator == "required":
        return error.message.replace(" is a required property", " is required")
    if "propertyNames" in error.absolute_schema_path:
        return f"name {error.instance!r} is not allowed (must match {error.validator_value})"
    if error.validator == "pattern":
        return f"{error.instance!r} is not allowed here (must match {error.validator_value})"
    if error.validator == "anyOf" and isinstance(error.instance, dict):
        return "needs a 'uri' or a 'path'"
    return error.message


def _path(error: "jsonschema.ValidationError") -> tuple:
    """Where the error is: an unknown or badly named field is pointed at itself."""
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return path + (extra[0],) if extra else path
    if "propertyNames" in error.absolute_schema_path and isinstance(error.instance, str):
        return path + (error.instance,)
    return path


def _best(errors: "list[jsonschema.ValidationError]") -> "jsonschema.ValidationError":
    """The deepest error first (most specific), then the earliest by path."""
    return sorted(errors, key=lambda e: (-len(_path(e)), list(map(str, _path(e)))))[0]


def validate_schema(data: Any, locate: Callable[[tuple, str], InputError]) -> None:
    """Raise the most specific schema violation of ``data`` through ``locate``."""
    if not isinstance(data, dict):
        raise locate((), "expected a mapping with apiVersion, kind, metadata and steps")
    record = _passed_record(data)
    passed = DigestSet.load(CACHE_SET) if record is not None else None
    if passed is not None and record in passed:
        return
    import jsonschema

    errors = list(jsonschema.Draft202012Validator(program_schema()).iter_errors(data))
    if not errors:
        if passed is not None and record is not None:
            passed.add([record])
        return
    error = _best(errors)
    raised = locate(_path(error), _message(error))
    raised.hint = raised.hint or "see docs/program-format.md for the format"
    raise raised
