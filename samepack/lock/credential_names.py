"""Which variable a URL's literal credential is named by in a lock (``${NAME}``).

A host that carries one credential names it for the host (and port) alone, as samepack always
has: ``SAMEPACK_INDEX_ARTIFACTORY_CORP`` + ``_PASSWORD`` / ``_TOKEN``, so existing locks and the
variables users export keep working. A host whose places carry different credentials (one
Artifactory, Nexus or GitLab serving several repositories, each with its own token) names each
place's credential for the host and that place's path, since one variable sent to both would
be refused by one of them: ``https://ci:tokA@artifactory.corp/api/pypi/team-a/simple`` becomes
``SAMEPACK_INDEX_ARTIFACTORY_CORP_TEAM_A`` + ``_PASSWORD``. The path's part is its segments
without the words index servers put around a repository's name (``api``, ``pypi``, ``simple``,
``repository``...): the whole path where that leaves nothing or two places alike, and a short
digest of the place beside it where even those are alike.

Names are made from the set of URLs given, never their order, so the same project gives the
same lock. The credentials counted on a host are its URLs' literal user-info parts, and
``${NAME}`` references already carrying a place's name (a lock's or record's URLs written
this way): so a lock's references and the project's files, read together again (``--check``,
``env create``), name each literal as the lock did.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping
from urllib.parse import urlsplit

from samepack.lock.userinfo import user_info

_REFERENCES = re.compile(r"(?:\$\{[A-Z0-9_]+\})+")
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_ROLES = ("_PASSWORD", "_TOKEN")
# path segments that name an index server's API, not the repository it serves
_GENERIC_SEGMENTS = frozenset({"api", "pypi", "simple", "+simple", "repository", "repositories",
                               "artifactory", "packages", "_packaging", "-"})


def variable_prefix(url: str) -> str:
    """``SAMEPACK_INDEX_<HOST>`` for the host (and port) of ``url``."""
    return _host_prefix(_host(url))


@dataclass(frozen=True)
class CredentialNames:
    """The variable prefix of each place (host and path) whose host carries several
    credentials; every other URL's prefix is its host's (:func:`variable_prefix`)."""

    by_place: Mapping[str, str] = field(default_factory=dict)

    def prefix(self, url: str) -> str:
        """The prefix the credentials of ``url`` are named with (``..._PASSWORD``)."""
        return self.by_place.get(_place(url)) or variable_prefix(url)


def credential_names(urls: Iterable[str]) -> CredentialNames:
    """The names for the credentials of ``urls``, which are read together: every URL that
    goes into one lock or record (and, read back, the references these carry)."""
    literal: dict[str, dict[str, set[str]]] = {}  # host -> place -> its literal user-infos
    credentials: dict[str, set[str]] = {}  # host -> the distinct credentials it carries
    for url in set(urls):
        info = user_info(url)
        if info is None:
            continue
        userinfo = info.text
        host = _host(url)
        if _is_literal(userinfo):
            literal.setdefault(host, {}).setdefault(_place(url), set()).add(userinfo)
            credentials.setdefault(host, set()).add(userinfo)
        elif _names_a_place(userinfo, variable_prefix(url)):
            credentials.setdefault(host, set()).add(userinfo)
    by_place: dict[str, str] = {}
    for host, places in literal.items():
        if len(credentials[host]) > 1:
            by_place.update({place: f"{_host_prefix(host)}_{part}"
                             for place, part in _place_parts(places).items()})
    return CredentialNames(by_place)


def _place_parts(places: dict[str, set[str]]) -> dict[str, str]:
    """Each place's part of its name: its path's own words, else its whole path, else that
    with a digest of the place, whichever first tells it from the host's other places with
    other credentials."""
    parts: dict[str, str] = {}
    for place, credentials in places.items():
        taken = {candidate for other, theirs in places.items() if theirs != credentials
                 for candidate in _candidates(other)}
        words, whole = _candidates(place)
        digest = hashlib.sha256(place.encode()).hexdigest()[:8].upper()
        parts[place] = next((candidate for candidate in (words, whole)
                             if candidate and candidate not in taken), f"{whole}_{digest}")
    return parts


def _candidates(place: str) -> tuple[str, str]:
    """A place's path as a name: its own words (the generic ones left out), and whole."""
    path = place.partition("/")[2]
    words = "_".join(segment for segment in path.split("/")
                     if segment.lower() not in _GENERIC_SEGMENTS)
    return _name_part(words), _name_part(path) or "ROOT"


def _host_prefix(host: str) -> str:
    return "SAMEPACK_INDEX_" + (_name_part(host) or "HOST")


def _name_part(text: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")


def _host(url: str) -> str:
    return urlsplit(url).netloc.rpartition("@")[2].lower()


def _place(url: str) -> str:
    """Host (and port) and path, without credentials, query or a trailing ``/``."""
    try:
        return _host(url) + urlsplit(url).path.rstrip("/")
    except ValueError:
        return url


def _is_literal(userinfo: str) -> bool:
    """Whether the user-info holds a credential as written (not only ``${NAME}`` references):
    a password, or a user name standing alone (a token)."""
    user, colon, password = userinfo.partition(":")
    secret = password if colon else user
    return bool(secret) and not _REFERENCES.fullmatch(secret)


def _names_a_place(userinfo: str, host_prefix: str) -> bool:
    """Whether the user-info references a variable named for a place of its host (a name
    this module gives where the host carries several credentials)."""
    return any(name.startswith(host_prefix + "_") and name.endswith(_ROLES)
               and name not in (host_prefix + role for role in _ROLES)
               for name in _VARIABLE.findall(userinfo))
