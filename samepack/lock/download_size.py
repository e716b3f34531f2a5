"""How much a lock will download, from the file sizes the lock itself records.

Only PEP 751 ``pylock.toml`` records sizes among the files samepack writes (uv fills in the
index's ``size`` for every wheel and sdist). A lock without it has no honest figure: the
answer is then None, and the caller says "unknown" rather than guess.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Mapping

from samepack.console import decimal_size


@dataclass(frozen=True)
class DownloadSize:
    total: int  # bytes, over the packages whose size the lock records
    sized: int  # packages counted in total
    unsized: int  # packages the lock names without a size

    @property
    def known(self) -> bool:
        return self.sized > 0

    def describe(self) -> str:
        if not self.known:
            return f"unknown (the lock records no size for its {self.unsized} package(s))"
        figure = decimal_size(self.total)
        if self.unsized:
            return f"at least {figure} ({self.unsized} package(s) without a recorded size)"
        return figure


def download_size(files: Mapping[str, str]) -> DownloadSize | None:
    """The download size of the pylock.toml among ``files`` (name -> text), or None."""
    text = next((body for name, body in sorted(files.items())
                 if name == "pylock.toml" or (name.startswith("pylock.") and
                                              name.endswith(".toml"))), None)
    if text is None:
        return None
    try:
        packages = tomllib.loads(text).get("packages", [])
    except tomllib.TOMLDecodeError:
        return None
    total = sized = unsized = 0
    for package in packages if isinstance(packages, list) else []:
        size = _package_size(package) if isinstance(package, dict) else None
        if size is None:
            unsized += 1
        else:
            total, sized = total + size, sized + 1
    return DownloadSize(total, sized, unsized)


def _package_size(package: dict) -> int | None:
    """The file an installer fetches for one package: its wheel (the largest, when the lock
    lists wheels for several platforms, so the figure is an upper bound), else its sdist."""
    wheels = [w.get("size") for w in package.get("wheels", []) if isinstance(w, dict)]
    sizes = [s for s in wheels if isinstance(s, int) and s >= 0]
    if sizes:
        return max(sizes)
    sdist = package.get("sdist")
    size = sdist.get("size") if isinstance(sdist, dict) else None
    return size if isinstance(size, int) and size >= 0 else None


