"""Where a lock's packages come from: the index URLs, find-links and per-package pins a project
or the user's flags give, as the tools' flags and as recorded in ``.samepack/env.json``.

Apart from the locker's values: a run whose environment exists reads these (and only these)
from the lock record.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from samepack.scan.names import canonical_name


@dataclass(frozen=True)
class IndexPin:
    """A package uv takes only from one index: ``[tool.uv.sources] NAME = { index = ... }``
    naming an index with ``explicit = true``, which serves no other package."""

    package: str  # as the project writes it
    url: str  # the index's simple URL
    marker: str | None = None  # the source entry's environment marker

    def page(self) -> str:
        """The index's page of the package (PEP 503), a find-links page of its files only."""
        return self.url.rstrip("/") + f"/{canonical_name(self.package)}/"

    def to_json(self) -> dict:
        return {"package": self.package, "url": self.url, "marker": self.marker}

    @classmethod
    def from_json(cls, data: dict) -> "IndexPin":
        return cls(str(data["package"]), str(data["url"]), data.get("marker"))


@dataclass(frozen=True)
class IndexOptions:
    """Where packages come from. Empty = the tool's default index. ``pinned`` packages come
    only from their own index: not on a command line (the uv locker resolves them with the
    index's sources, :mod:`samepack.lock.uv_sources`), and in a lock as the find-links page of
    each one's files."""

    find_links: tuple[str, ...] = ()
    no_index: bool = False
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    pinned: tuple[IndexPin, ...] = ()

    def args(self, base: Path | None = None, supplied: Mapping[str, str] | None = None
             ) -> list[str]:
        """Command-line flags (the same for uv and pip); local find-links made absolute
        against ``base`` (default: the working directory), since the tools run elsewhere.
        ``${VAR}`` references (credentials kept out of records and locks) are expanded here,
        from the environment or else ``supplied``, as pip and uv expand them in a requirement
        file: a command line gets no such expansion from the tools."""
        from samepack.lock.credentials import expanded

        args: list[str] = []
        for link in self.find_links:
            local = "://" not in link
            args += ["--find-links", str(((base or Path.cwd()) / link).resolve()) if local
                     else expanded(link, supplied)]
        if self.no_index:
            args.append("--no-index")
        if self.index_url:
            args += ["--index-url", expanded(self.index_url, supplied)]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", expanded(url, supplied)]
        return args

    def merged(self, other: "IndexOptions") -> "IndexOptions":
        """These options with ``other``'s added: the first index URL given wins."""
        return IndexOptions(find_links=tuple(dict.fromkeys(self.find_links + other.find_links)),
                            no_index=self.no_index or other.no_index,
                            index_url=self.index_url or other.index_url,
                            extra_index_urls=tuple(dict.fromkeys(self.extra_index_urls
                                                                 + other.extra_index_urls)),
                            pinned=tuple(dict.fromkeys(self.pinned + other.pinned)))

    def over(self, project: "IndexOptions") -> "IndexOptions":
        """These options (the user's flags) with what the ``project`` declares added. With
        ``--no-index`` among the flags nothing remote of the project's is asked: not its index
        URLs (the tools ignore them then anyway) nor its find-links pages, which the tools
        would still fetch; its local find-links directories are searched."""
        if self.no_index:
            local = tuple(link for link in project.find_links
                          if "://" not in link or link.startswith("file://"))
            project = IndexOptions(find_links=local, no_index=project.no_index)
        return self.merged(project)

    @classmethod
    def from_json(cls, data: dict | None) -> "IndexOptions":
        data = data or {}
        return cls(find_links=tuple(data.get("find_links") or ()),
                   no_index=bool(data.get("no_index")), index_url=data.get("index_url"),
                   extra_index_urls=tuple(data.get("extra_index_urls") or ()),
                   pinned=tuple(IndexPin.from_json(pin) for pin in data.get("pinned") or ()))

    def to_json(self) -> dict:
        data = {"find_links": list(self.find_links), "no_index": self.no_index,
                "index_url": self.index_url}
        if self.extra_index_urls:
            data["extra_index_urls"] = list(self.extra_index_urls)
        if self.pinned:
            data["pinned"] = [pin.to_json() for pin in self.pinned]
        return data
