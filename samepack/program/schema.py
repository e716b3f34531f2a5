"""The shipped JSON Schema of ``samepack.yaml`` and its errors as ``FILE:LINE: field: message``."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Callable

from samepack.errors import InputError

if TYPE_CHECKING:  # jsonschema is imported only when a file is validated (it is slow to load)
    import jsonschema


@lru_cache(maxsize=1)
def program_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) shipped as ``samepack/program/schema.json``."""
    return json.loads(resources.files("samepack.program").joinpath("schema.json").read_text())


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
    import jsonschema

    errors = list(jsonschema.Draft202012Validator(program_schema()).iter_errors(data))
    if not errors:
        return
    error = _best(errors)
    raised = locate(_path(error), _message(error))
    raised.hint = raised.hint or "see docs/program-format.md for the format"
    raise raised
