"""Index options shared by ``package-env`` and ``env create`` (a module of their own, so that
``env create`` does not load the locker to read its options)."""

from __future__ import annotations

from pathlib import Path

import click


def from_cwd(locations: tuple[str, ...]) -> tuple[str, ...]:
    """Local paths given on the command line, made absolute against the working directory
    (the tools run elsewhere); URLs are kept as they are."""
    return tuple(loc if "://" in loc else str(Path(loc).expanduser().resolve()) for loc in locations)


def channels_from_cwd(channels: tuple[str, ...]) -> tuple[str, ...]:
    """Like :func:`from_cwd` for conda channels, where a bare word is a channel name."""
    local = [c.startswith((".", "/", "~")) or Path(c).is_dir() for c in channels]
    return tuple(from_cwd((c,))[0] if is_local else c for c, is_local in zip(channels, local))


def index_options(func):
    """--find-links / --no-index / --index-url, shared with ``env create``."""
    func = click.option("--index-url", metavar="URL", help="Use this package index instead of PyPI.")(func)
    func = click.option("--no-index", is_flag=True, help="Use only --find-links, no index.")(func)
    func = click.option("--find-links", "find_links", multiple=True, metavar="DIR|URL",
                        help="Also look for packages here (repeatable).")(func)
    return func
