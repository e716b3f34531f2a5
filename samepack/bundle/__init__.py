"""Bundles: one deterministic, verified archive of a program (format 1, docs/bundle-format.md).

Public entry points: ``export_bundle`` and ``import_bundle``; ``samepack.bundle.layout`` gives
the segment layout to registries (one OCI layer per part).
"""
