"""Bundles: one deterministic, verified archive of a program (format 2, docs/bundle-format.md).

Rooms: ``format`` (manifest, segment layout, frames, tar headers), ``parts`` (what each part
holds), ``write`` (export), ``read`` (verify, import, inspect), ``system`` (OS helpers both use).

Public entry points: ``export_bundle`` (a registered program to a bundle file) and
``import_bundle`` (a bundle file or extracted directory into the store, returning the Entry);
``samepack.bundle.format.layout`` gives the segment layout to registries (one OCI layer per part).
"""

from __future__ import annotations


def export_bundle(ref_or_entry, out=None, options=None, store=None):
    """See :func:`samepack.bundle.write.export.export_bundle`."""
    from samepack.bundle.write.export import export_bundle as run

    return run(ref_or_entry, out, options, store)


def import_bundle(path, store=None, as_ref=None, force=False, limits=None):
    """See :func:`samepack.bundle.read.importer.import_bundle`."""
    from samepack.bundle.read.importer import import_bundle as run

    return run(path, store, as_ref, force, limits)


__all__ = ["export_bundle", "import_bundle"]
