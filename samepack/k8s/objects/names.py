"""Kubernetes names and labels: DNS-1123 sanitising and the labels every object carries."""

from __future__ import annotations

import hashlib
import re

MANAGED_BY = "samepack"
FIELD_MANAGER = "samepack"

_NOT_NAME = re.compile(r"[^a-z0-9-]+")
_NOT_LABEL = re.compile(r"[^A-Za-z0-9._-]+")


def dns_name(*parts: str, limit: int = 63) -> str:
    """A DNS-1123 label from ``parts`` joined by ``-``: lower case, ``[a-z0-9-]``, starting and
    ending alphanumeric, at most ``limit`` characters. Names cut short keep a hash of the full
    text so two long names stay distinct."""
    text = "-".join(part for part in parts if part)
    name = _NOT_NAME.sub("-", text.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name) or "x"
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"


def label_value(text: str) -> str:
    """A valid label value: at most 63 characters of ``[A-Za-z0-9._-]``, alphanumeric ends."""
    value = _NOT_LABEL.sub("-", text).strip("-._")
    return value[:63].rstrip("-._")


def image_tag(text: str) -> str:
    """A valid image tag (``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}``): ``0.1.0+local`` -> ``0.1.0-local``."""
    tag = re.sub(r"[^A-Za-z0-9_.-]", "-", text).lstrip(".-")
    return tag[:128] or "latest"


def env_name(text: str) -> str:
    """A C identifier usable as an environment variable name (``storage-key`` -> ``STORAGE_KEY``)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", text).upper()
    return name if not name[:1].isdigit() else f"_{name}"


def program_labels(name: str, version: str, component: str | None = None) -> dict[str, str]:
    """The labels samepack puts on everything it renders (and selects by)."""
    labels = {
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/name": label_value(name),
        "app.kubernetes.io/version": label_value(version),
    }
    if component:
        labels["app.kubernetes.io/component"] = label_value(component)
    return labels
