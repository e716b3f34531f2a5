"""Bundles as OCI artifacts: push, pull and inspect through any OCI registry.

A small client of the OCI distribution API (``transport``, ``registry``, ``blobs``) with
bounded retries and resumable transfers; ``artifact`` maps a bundle to an image manifest.
Public entry points: ``push_bundle``, ``pull_bundle``, ``inspect_remote``, ``parse_reference``,
``login``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["inspect_remote", "login", "parse_reference", "pull_bundle", "push_bundle"]

if TYPE_CHECKING:
    from samepack.oci.inspect import inspect_remote
    from samepack.oci.login import login
    from samepack.oci.pull import pull_bundle
    from samepack.oci.push import push_bundle
    from samepack.oci.reference import parse_reference

_HOMES = {"inspect_remote": "inspect", "login": "login", "parse_reference": "reference",
          "pull_bundle": "pull", "push_bundle": "push"}


def __getattr__(name: str) -> Any:
    """Import lazily: ``samepack inspect FILE`` should not pay for the HTTP client."""
    if name in _HOMES:
        from importlib import import_module

        return getattr(import_module(f"samepack.oci.{_HOMES[name]}"), name)
    raise AttributeError(name)
