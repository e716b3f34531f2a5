"""The index options a pip lock carries at its top, so that ``pip install --require-hashes -r
LOCK`` or ``uv pip sync LOCK`` alone finds every package (PyTorch's ``+cpu`` builds on their own
index, a project's wheel folder), the way pip-compile's and uv's ``--emit-index-url`` /
``--emit-find-links`` output does.

What is written is what the lock was made from, made portable: credentials become ``${VAR}``
references (:mod:`samepack.lock.credentials`); local find-links inside the project are written
relative to it (pip and uv read them relative to the lock, which lies at the project's root);
a local folder outside the project is a path of this machine only and is left out with a
warning, and so is ``--no-index`` then, since the lock alone no longer names every place its
packages came from.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from samepack.lock.credentials import (CredentialNames, credential_names, masked,
                                       without_credentials)
from samepack.lock.indexes import IndexOptions


@dataclass(frozen=True)
class LockIndex:
    """The option lines of a lock and the warnings about what they could not carry."""

    lines: tuple[str, ...]
    notes: tuple[str, ...]


def option_lines(index: IndexOptions) -> list[str]:
    """``index`` as requirement-file option lines, in pip-compile's order. A package pinned
    to its own index is found through that index's page of the package's files, which offers
    no other package (the lock's hashes pick the files)."""
    lines = [f"--index-url {index.index_url}"] if index.index_url else []
    lines += [f"--extra-index-url {url}" for url in index.extra_index_urls]
    pages = [pin.page() for pin in index.pinned]
    lines += [f"--find-links {_quoted(link)}"
              for link in dict.fromkeys((*index.find_links, *pages))]
    return lines + (["--no-index"] if index.no_index else [])


def index_urls(*indexes: IndexOptions) -> list[str]:
    """Every URL of ``indexes``: what is named together (:func:`credential_names`)."""
    return [url for index in indexes
            for url in (index.index_url, *index.extra_index_urls, *index.find_links,
                        *(pin.url for pin in index.pinned))
            if url and "://" in url]


def credential_free(index: IndexOptions, names: CredentialNames | None = None
                    ) -> tuple[IndexOptions, tuple[str, ...]]:
    """``index`` with every URL's literal credentials replaced by ``${VAR}`` references, and
    a warning for each URL that had some. ``names``: those of every URL written beside
    ``index`` (default: its own URLs')."""
    notes: list[str] = []
    names = names or credential_names(index_urls(index))

    def clean(flag: str, url: str) -> str:
        if "://" not in url:
            return url
        safe, variables = without_credentials(url, names)
        if variables:
            to_set = " and ".join(variables)
            notes.append(f"{flag} {masked(url)} carries credentials: the lock and "
                         f".samepack/env.json name them as {', '.join('${' + v + '}' for v in variables)}; "
                         f"set {to_set} where the lock is installed without the project's files "
                         "(pip and uv read ${VAR} in requirement files; samepack's env create and "
                         "runs take it from those files)")
        return safe

    cleaned = IndexOptions(
        find_links=tuple(clean("--find-links", link) for link in index.find_links),
        no_index=index.no_index,
        index_url=clean("--index-url", index.index_url) if index.index_url else None,
        extra_index_urls=tuple(clean("--extra-index-url", url) for url in index.extra_index_urls),
        pinned=tuple(replace(pin, url=clean("[[tool.uv.index]]", pin.url))
                     for pin in index.pinned))
    return cleaned, tuple(dict.fromkeys(notes))


def lock_index(index: IndexOptions, root: Path, lock_name: str,
               names: CredentialNames | None = None) -> LockIndex:
    """The option lines the lock ``lock_name`` at the project ``root`` carries for ``index``
    (the options it was made with); ``names`` as for :func:`credential_free`."""
    safe, notes = credential_free(index, names)
    links: list[str] = []
    dropped: list[str] = []
    for link in safe.find_links:
        portable = _portable_link(link, root)
        if portable is None:
            dropped.append(link)
        elif portable not in links:
            links.append(portable)
    no_index = safe.no_index and not dropped
    why = list(notes)
    for link in dropped:
        why.append(f"--find-links {link} is outside the project: {lock_name} does not name it, "
                   f"so installing it elsewhere needs that folder given again (--find-links DIR)"
                   + ("; --no-index is left out of the lock with it" if safe.no_index else ""))
    lines = option_lines(replace(safe, find_links=tuple(links), no_index=no_index))
    return LockIndex(tuple(lines), tuple(why))


def _portable_link(link: str, root: Path) -> str | None:
    """A find-links location as the lock names it: URLs as they are, a local folder relative
    to the project (POSIX), None for a folder outside the project."""
    if "://" in link and not link.startswith("file:"):
        return link
    path = Path(unquote(urlsplit(link).path)) if link.startswith("file:") else Path(link)
    base = root.resolve()
    where = Path(os.path.normpath(path if path.is_absolute() else base / path))
    if not where.is_relative_to(base):
        return None
    return where.relative_to(base).as_posix()


def _quoted(value: str) -> str:
    return shlex.quote(value) if any(c.isspace() for c in value) else value


def with_option_lines(text: str, lines: tuple[str, ...], header: str) -> str:
    """The lock ``text`` (headed by ``header``) with ``lines`` after its header and a blank
    line before the pins."""
    if not lines:
        return text
    body = text[len(header):] if text.startswith(header) else text
    head = header if text.startswith(header) else ""
    return head + "".join(f"{line}\n" for line in lines) + "\n" + body.lstrip("\n")


_OPTION_FLAGS = ("--index-url", "--extra-index-url", "--find-links", "--no-index", "-i ", "-f ")


def without_option_lines(text: str) -> str | None:
    """The lock ``text`` without its index option lines, or None when it has none (for an
    install whose command line names every place to look)."""
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not line.lstrip().startswith(_OPTION_FLAGS)]
    return None if len(kept) == len(lines) else "".join(kept)
