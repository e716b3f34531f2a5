"""Bundles: one deterministic, verified archive of a program (format 1, docs/bundle-format.md).

Public entry points: ``export_bundle`` (a registered program to a bundle file) and
``import_bundle`` (a bundle file or extracted directory into the store, returning the Entry);
``samepack.bundle.layout`` gives the segment layout to registries (one OCI layer per part).
"""

from __future__ import annotations


def export_bundle(ref_or_entry, out=None, options=None, store=None):
    """See :func:`samepack.bundle.export.export_bundle`."""
    from samepack.bundle.export import export_bundle as run

    return run(ref_or_entry, out, options, store)


def import_bundle(path, store=None, as_ref=None, force=False, limits=None):
    """See :func:`samepack.bundle.importer.import_bundle`."""
    from samepack.bundle.importer import import_bundle as run

    return run(path, store, as_ref, force, limits)


__all__ = ["export_bundle", "import_bundle"]
