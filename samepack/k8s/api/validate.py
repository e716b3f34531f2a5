"""Strict offline validation of rendered objects: Kubernetes kinds against the schemas shipped
with kubernetes-validate (unknown fields rejected), custom resources (Argo) against their CRD's
openAPIV3Schema when one is given."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable, Mapping

from samepack.errors import InputError, ToolMissingError, VerificationError

DEFAULT_KUBERNETES_VERSION = "1.30"


def _validator():
    try:
        from kubernetes_validate import utils
    except ImportError:
        raise ToolMissingError("kubernetes-validate is not installed",
                               hint="pip install 'samepack[kubernetes]'") from None
    return utils


@lru_cache(maxsize=None)
def _supported() -> tuple[str, ...]:
    utils = _validator()
    return tuple(sorted({utils.major_minor(v) for v in utils.all_versions()},
                        key=lambda v: tuple(int(p) for p in v.split("."))))


def supported_versions() -> list[str]:
    """Kubernetes minor versions the installed kubernetes-validate has schemas for."""
    return list(_supported())


def _check_version(version: str) -> str:
    version = version.removeprefix("v")
    wanted = ".".join(version.split(".")[:2])
    known = supported_versions()
    if wanted not in known:
        raise InputError(f"--kubernetes-version: no schemas for Kubernetes {version}",
                         hint=f"choose one of {known[0]}..{known[-1]}")
    return wanted


def describe(obj: Mapping[str, Any]) -> str:
    """``Kind/name`` of an object for messages."""
    return f"{obj.get('kind', '?')}/{(obj.get('metadata') or {}).get('name', '?')}"


def _field(path: Iterable[Any]) -> str:
    return ".".join(str(part) for part in path) or "(top level)"


def _validate_custom(obj: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    import jsonschema

    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(obj), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        raise VerificationError(f"{describe(obj)}: {_field(first.absolute_path)}: {first.message}",
                                hint="fix the program field this object is rendered from")


def strict_schema(schema: Any) -> Any:
    """A CRD's openAPIV3Schema made strict the way kubernetes-validate's strict schemas are:
    objects with declared properties admit no others (unless they preserve unknown fields)."""
    if isinstance(schema, list):
        return [strict_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: strict_schema(value) for key, value in schema.items()}
    if ("properties" in schema and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")):
        strict["additionalProperties"] = False
    return strict


def crd_schema(crd: Mapping[str, Any]) -> tuple[str, Any]:
    """(kind, strict schema) of a CustomResourceDefinition's first served version."""
    version = crd["spec"]["versions"][0]
    return crd["spec"]["names"]["kind"], strict_schema(version["schema"]["openAPIV3Schema"])


@lru_cache(maxsize=None)
def _schema_dir(version: str) -> str:
    utils = _validator()
    full = [v for v in utils.all_versions() if utils.major_minor(v) == version][-1]
    return f"kubernetes-json-schema/v{full}-local-strict"


@lru_cache(maxsize=None)
def _definitions(version: str) -> Any:
    return _validator().schema_contents(f"{_schema_dir(version)}/_definitions.json", version)


@lru_cache(maxsize=None)
def _kind_validator(version: str, kind: str, api_version: str):
    """A compiled strict validator for one kind (kubernetes-validate's schemas and reference
    layout, loaded once instead of once per object)."""
    import jsonschema
    from referencing import Registry, Resource

    utils = _validator()
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = utils.schema_contents(f"{_schema_dir(version)}/{kind.lower()}-{group}.json",
                                       version)
    except FileNotFoundError:
        return None
    registry = Resource.from_contents(schema) @ Registry()
    registry = Resource.from_contents(_definitions(version)) @ registry
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def validate_object(obj: Mapping[str, Any], kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
                    crd_schemas: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Raise VerificationError naming the object and field when ``obj`` is not valid."""
    import jsonschema

    kind = str(obj.get("kind"))
    if crd_schemas and kind in crd_schemas:
        _validate_custom(obj, crd_schemas[kind])
        return
    version = _check_version(kubernetes_version)
    validator = _kind_validator(version, kind, str(obj.get("apiVersion")))
    if validator is None:
        raise InputError(f"{describe(obj)}: no schema for kind {kind} ({obj.get('apiVersion')}) "
                         f"in Kubernetes {version}",
                         hint="give the custom resource's CRD schema to validate it")
    error = jsonschema.exceptions.best_match(validator.iter_errors(dict(obj)))
    if error is not None:
        raise VerificationError(
            f"{describe(obj)}: {_field(error.path)}: {error.message} (Kubernetes {version})",
            hint="fix the program field this object is rendered from")


def validate_manifests(objects: Iterable[Mapping[str, Any]],
                       kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
                       crd_schemas: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Validate every object strictly; the first invalid one raises, naming kind/name and field.

    ``crd_schemas`` maps a custom kind (``Workflow``) to its CRD's openAPIV3Schema.
    """
    version = _check_version(kubernetes_version)
    for obj in objects:
        validate_object(obj, version, crd_schemas)
