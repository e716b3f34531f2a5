"""The local program store: ``Store`` (register, register_directory, get, list, staging_dir)
and ``Entry`` (one registered program; ``workdir`` is where its steps run)."""

from samepack.store.entry import Entry
from samepack.store.store import Store, parse_ref

__all__ = ["Entry", "Store", "parse_ref"]
