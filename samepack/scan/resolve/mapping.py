"""Import name -> PyPI distribution.

Order: the user's ``[tool.samepack.mapping]``, the active environment's installed metadata,
the shipped table (``samepack/data/import_map.json``: known mismatches and namespace rules),
then the import's own top-level name. Every step takes the longest matching dotted prefix, so
``google.cloud.storage`` and ``google.protobuf`` land on different distributions.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from samepack.scan.resolve import installed_cache
from samepack.scan.model import MappingSource
from samepack.scan.names import canonical_name

DATA = Path(__file__).resolve().parents[2] / "data" / "import_map.json"
_MAX_DEPTH = 3


@dataclass(frozen=True)
class Resolution:
    module: str  # what the finding is called: the top-level name or the matched dotted prefix
    distribution: str | None  # canonical name; None when the user maps the import to ""
    source: MappingSource


@lru_cache(maxsize=1)
def _table() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def conda_to_pypi(name: str) -> str | None:
    """The PyPI name of a conda package (None for conda-only packages such as ``python``)."""
    table = _table()["conda_to_pypi"]
    return table[name.lower()] if name.lower() in table else name


def source_requirement(distribution: str) -> str | None:
    """``NAME @ URL`` for a distribution whose project PyPI does not serve under that name
    (``detectron2``; ``apex``, whose PyPI name is another project), else None."""
    url = _table()["sources"].get(distribution)
    return f"{distribution} @ {url}" if url else None


def _prefixes(dotted: str) -> list[str]:
    parts = dotted.split(".")[:_MAX_DEPTH + 1]
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


def _lookup(table: dict[str, str], dotted: str) -> tuple[str, str] | None:
    for prefix in _prefixes(dotted):
        if prefix in table:
            return prefix, table[prefix]
    return None


def table_lookup(dotted: str) -> tuple[str, str] | None:
    """(module, distribution) from the shipped table: explicit names and namespace rules."""
    data = _table()
    best = _lookup(data["modules"], dotted)
    parts = dotted.split(".")
    for prefix, template in data["namespaces"].items():
        depth = prefix.count(".") + 1
        if len(parts) > depth and ".".join(parts[:depth]) == prefix:
            if best is None or best[0].count(".") + 1 <= depth:
                best = (".".join(parts[:depth + 1]), template.format(parts[depth]))
    return best


class InstalledIndex:
    """Which installed distribution provides a module, from the active environment's metadata.
    Only regular packages and modules count: a namespace directory (``google/``) that several
    distributions share decides nothing, so ``google.protobuf`` never maps to google-cloud-*."""

    def __init__(self, cached: bool = False) -> None:
        """``cached``: start from the index kept for this environment (installed_cache.py)
        and keep what this process adds to it with :meth:`save`."""
        self._key = installed_cache.environment_key() if cached else None
        data = installed_cache.load(self._key) if self._key else None
        if data:
            self._top, self._provided = data["top"], data["modules"]
        else:
            import importlib.metadata as metadata  # not needed with --no-installed

            self._top = metadata.packages_distributions()
            self._provided = {}
        self._dirty = not data

    def save(self) -> None:
        """Keep the index for the next scan of this environment (when cached and changed)."""
        if self._key and self._dirty:
            installed_cache.save(self._key, self._top, self._provided)
            self._dirty = False

    def lookup(self, dotted: str) -> tuple[str, str] | None:
        top = dotted.split(".", 1)[0]
        candidates = sorted(set(self._top.get(top, [])))
        if not candidates:
            return None
        for prefix in reversed(_prefixes(dotted)):  # shortest first: the package, not a submodule
            owners = [name for name in candidates if self._modules(name).get(prefix)]
            if owners:
                return prefix, owners[0]
        return None

    def _modules(self, distribution: str) -> dict[str, bool]:
        """Dotted names (up to _MAX_DEPTH) a distribution installs, True for modules and
        regular packages (with ``__init__``), False for bare directories."""
        if distribution not in self._provided:
            self._provided[distribution] = _module_names(distribution)
            self._dirty = True
        return self._provided[distribution]


def _module_names(distribution: str) -> dict[str, bool]:
    import importlib.metadata as metadata

    try:
        files = _installed_paths(metadata.distribution(distribution))
    except metadata.PackageNotFoundError:
        return {}
    names: dict[str, bool] = {}
    for file in files:
        parts = _path_parts(file)
        if not parts or parts[0] in ("..",) or parts[0].endswith((".dist-info", ".egg-info", ".data")):
            continue
        stem = parts[-1].split(".", 1)[0]
        is_code = parts[-1].endswith((".py", ".pyi", ".so", ".pyd"))
        for depth in range(1, min(len(parts), _MAX_DEPTH + 1)):
            names.setdefault(".".join(parts[:depth]), False)
        if is_code and len(parts) <= _MAX_DEPTH + 1:
            if stem == "__init__":
                names[".".join(parts[:-1])] = True
            elif len(parts) <= _MAX_DEPTH:
                names[".".join(parts[:-1] + (stem,))] = True
    return names


def _installed_paths(dist) -> list[str]:
    """The paths a distribution installs. RECORD is read as plain CSV: ``dist.files`` builds a
    path object per row, which costs more than the rest of the scan's mapping together."""
    record = dist.read_text("RECORD")
    if record is None:
        return [str(file) for file in dist.files or []]
    return [row[0] for row in csv.reader(record.splitlines()) if row]


def _path_parts(path: str) -> tuple[str, ...]:
    """``PurePosixPath(path).parts``, by a plain split for the usual relative path."""
    if path in ("", ".") or path.startswith(("/", "./")) or path.endswith(("/", "/.")) \
            or "//" in path or "/./" in path:
        return PurePosixPath(path).parts
    return tuple(path.split("/"))


@lru_cache(maxsize=1)
def installed_index() -> InstalledIndex:
    """One index per process, kept between scans: reading every distribution's metadata is the
    slow part."""
    return InstalledIndex(cached=True)


class DistributionResolver:
    """Resolve dotted imports to distributions; ``use_installed=False`` makes the answer
    independent of what happens to be installed (golden tests, reproducible reports)."""

    def __init__(self, user: dict[str, str], use_installed: bool = True) -> None:
        self.user = user
        self.use_installed = use_installed
        self._installed: InstalledIndex | None = None
        self._known: dict[str, Resolution] = {}

    @property
    def installed(self) -> InstalledIndex | None:
        """The installed index, read on the first import that needs it (a project without
        third-party imports never pays for reading every distribution's metadata)."""
        if self.use_installed and self._installed is None:
            self._installed = installed_index()
        return self._installed

    def save_installed(self) -> None:
        """Keep the installed index for the next scan, when this one read it."""
        if self._installed is not None:
            self._installed.save()

    def user_lookup(self, dotted: str) -> Resolution | None:
        hit = _lookup(self.user, dotted) if self.user else None
        if hit is None:
            return None
        module, distribution = hit
        return Resolution(module, canonical_name(distribution) if distribution else None, "user")

    def resolve(self, dotted: str) -> Resolution:
        known = self._known.get(dotted)
        if known is None:
            known = self._known[dotted] = self._resolve(dotted)
        return known

    def _resolve(self, dotted: str) -> Resolution:
        user = self.user_lookup(dotted)
        if user:
            return user
        if self.installed:
            hit = self.installed.lookup(dotted)
            if hit:
                return Resolution(hit[0], canonical_name(hit[1]), "installed")
        hit = table_lookup(dotted)
        if hit:
            return Resolution(hit[0], canonical_name(hit[1]), "table")
        top = dotted.split(".", 1)[0]
        return Resolution(top, canonical_name(top), "identity")
