"""The credentials a lock's ``${VAR}`` references stand for, given to the tool that installs it.

``package-env`` writes a project's literal index credentials into the lock as ``${VAR}``
references (:mod:`samepack.lock.credentials`); pip and uv expand them from their environment.
uv and pip take a URL's own credentials before their netrc, keyring or credential store, so an
unset variable is sent as written (``${VAR}``) and the index refuses it. So before uv is
called, each variable the install needs is found, in this order:

1. this process's environment (the user exported it);
2. the project's own files, the ones ``package-env`` read (its requirement files and
   ``pyproject.toml``): on the machine where the project holds the literal credential, the
   lock installs as it was made;
3. a netrc entry for the index's host (``$NETRC``, else ``~/.netrc``), as uv and pip would use
   for a URL without a password. netrc holds one password per host and login, so it supplies
   none where the lock names two variables for that host and user (two repositories of one
   server with their own credentials): it cannot tell which is whose.

Which literal of the project's files belongs to which variable is found by naming the files'
URLs as ``package-env`` did, together with the lock's own references
(:mod:`samepack.lock.credential_names`): where one host carries several credentials, each
repository's has a variable of its own.

A variable none of them supplies is an error naming the lock, the index (credentials masked)
and the variable, before anything is installed. What is found goes only into the tool's
environment (:func:`uv_index_flags` keeps index URLs that need it off uv's command line): never
into a file, a record, a command line or a message.
"""

from __future__ import annotations

import netrc
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import quote, unquote, urlsplit

from samepack.errors import InputError
from samepack.lock.credentials import (credential_names, credential_values, masked,
                                       off_command_line, references)
from samepack.lock.index_lines import index_urls
from samepack.lock.indexes import IndexOptions
from samepack.lock.userinfo import user_info

_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://\S+")


@dataclass(frozen=True)
class Needed:
    """A variable the install needs, and the URL (as the lock writes it) that names it."""

    variable: str
    url: str


def needed_variables(lock_text: str, index: IndexOptions) -> list[Needed]:
    """The ``${VAR}`` references uv reads: in the lock text it is given and in the remote
    places of ``index`` that go on its command line (with ``--no-index`` only find-links)."""
    urls = _URL.findall(lock_text)
    urls += [link for link in index.find_links if "://" in link]
    if not index.no_index:
        urls += [url for url in (index.index_url, *index.extra_index_urls) if url]
    found: dict[str, Needed] = {}
    for url in urls:
        for variable in references(url):
            found.setdefault(variable, Needed(variable, url))
    return list(found.values())


def supplied_variables(project_dir: Path, lock_name: str, lock_text: str,
                       index: IndexOptions) -> dict[str, str]:
    """The values of the variables the install of ``lock_text`` (the project's lock
    ``lock_name``) needs that this environment lacks, from the project's files or netrc.
    Raises :class:`InputError` for one nothing supplies."""
    missing = [need for need in needed_variables(lock_text, index)
               if not os.environ.get(need.variable)]
    if not missing:
        return {}
    from samepack.envfiles.indexes import files_index

    needs = needed_variables(lock_text, index)
    declared = _literal_values(files_index(project_dir), [need.url for need in needs])
    supplied: dict[str, str] = {}
    for need in missing:
        netrc_serves = _netrc_can_tell(need, needs)
        value = declared.get(need.variable) or (_from_netrc(need) if netrc_serves else None)
        if not value:
            netrc_too = (f" or add a ~/.netrc entry for {urlsplit(need.url).hostname}"
                         if netrc_serves else "")
            raise InputError(
                f"{lock_name}: the index {masked(need.url)} needs {need.variable}, which is not "
                "set", hint=f"set {need.variable} (the index's credential){netrc_too}, then run "
                            "again")
        supplied[need.variable] = value
    return supplied


def _literal_values(declared: IndexOptions, lock_urls: list[str]) -> dict[str, str]:
    """Variable -> the literal credential the project's files write for it, named with the
    URLs of the lock that names the variables (the first place that names one wins, as it
    does for the lock's URLs)."""
    urls = index_urls(declared)
    names = credential_names([*urls, *lock_urls])
    values: dict[str, str] = {}
    for url in urls:
        for variable, value in credential_values(url, names).items():
            values.setdefault(variable, value)
    return values


def _netrc_can_tell(need: Needed, needs: list[Needed]) -> bool:
    """Whether a netrc entry can be the password ``need`` stands for: it is in a password's
    place, and no other variable of the install is a password of the same user on that host
    (netrc has one password per host and login)."""
    user = _password_user(need)
    if user is None:
        return False
    host = urlsplit(need.url).hostname
    return not any(other.variable != need.variable and _password_user(other) == user
                   and urlsplit(other.url).hostname == host for other in needs)


def _password_user(need: Needed) -> str | None:
    """The URL's user name when the variable stands where its password goes
    (``user:${VAR}@host``), else None: only a password can come from netrc."""
    info = user_info(need.url)
    if (info is None or info.password != "${" + need.variable + "}"
            or not info.parts.hostname):
        return None
    return unquote(info.user)


def _from_netrc(need: Needed) -> str | None:
    """The password a netrc entry gives the index's host, with a login matching the URL's
    user (or none), for a variable in the password's place."""
    user = _password_user(need)
    if user is None:
        return None
    try:
        entry = netrc.netrc(os.environ.get("NETRC") or None).authenticators(
            urlsplit(need.url).hostname or "")
    except (OSError, netrc.NetrcParseError):
        return None
    if not entry or not entry[2] or (user and entry[0] and entry[0] != user):
        return None
    return quote(entry[2], safe="")  # it goes inside the URL


def uv_index_flags(index: IndexOptions, base: Path | None, supplied: Mapping[str, str]
                   ) -> tuple[list[str], dict[str, str]]:
    """``index``'s flags for uv (credentials expanded from the environment or ``supplied``),
    and the variables to add to its environment: see :func:`samepack.lock.credentials.off_command_line`."""
    return off_command_line(index.args(base, supplied))
