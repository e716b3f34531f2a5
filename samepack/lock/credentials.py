"""Credentials in index URLs never reach a lock, a record or a message.

A URL's literal credentials are replaced by pip's environment-variable form, which pip and uv
expand when they read a requirement file (``${NAME}``, NAME of capitals, digits and ``_``): the
password of ``https://user:secret@host/simple`` becomes ``${SAMEPACK_INDEX_HOST_PASSWORD}``,
and a user name that stands alone (a token, ``https://TOKEN@host/``) becomes
``${SAMEPACK_INDEX_HOST_TOKEN}``; the user name beside a password is kept, as pip keeps it
when it redacts a URL. Parts that already are ``${NAME}`` references are left as they are.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit

_REFERENCES = re.compile(r"(?:\$\{[A-Z0-9_]+\})+")
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/\s@]+)@")


def variable_prefix(url: str) -> str:
    """``SAMEPACK_INDEX_<HOST>`` for the host (and port) of ``url``."""
    host = urlsplit(url).netloc.rpartition("@")[2]
    return "SAMEPACK_INDEX_" + (re.sub(r"[^A-Z0-9]+", "_", host.upper()).strip("_") or "HOST")


def without_credentials(url: str) -> tuple[str, tuple[str, ...]]:
    """``url`` with its literal credentials replaced by ``${VAR}`` references, and the names
    of the variables it now needs that it did not before."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, ()
    if "@" not in parts.netloc:
        return url, ()
    userinfo, _, host = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    prefix = variable_prefix(url)
    added: list[str] = []
    if colon:
        if password and not _REFERENCES.fullmatch(password):
            added.append(f"{prefix}_PASSWORD")
            password = "${" + added[-1] + "}"
        userinfo = f"{user}:{password}"
    elif user and not _REFERENCES.fullmatch(user):
        added.append(f"{prefix}_TOKEN")
        userinfo = "${" + added[-1] + "}"
    if not added:
        return url, ()
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}")), tuple(added)


def masked(text: str) -> str:
    """``text`` with the credentials of every URL in it shown as ``****`` (for messages)."""
    def mask(match: re.Match) -> str:
        user, colon, password = match.group("userinfo").partition(":")
        if colon:
            shown = password if _REFERENCES.fullmatch(password or "-") else "****"
            return f"{match.group('scheme')}{user}:{shown}@"
        shown = user if _REFERENCES.fullmatch(user) else "****"
        return f"{match.group('scheme')}{shown}@"

    return _USERINFO.sub(mask, text)


def expanded(text: str) -> str:
    """``${NAME}`` references replaced by the variables' values, as pip does in requirement
    files (an unset or empty variable is left as written)."""
    return _VARIABLE.sub(lambda m: os.environ.get(m.group(1)) or m.group(0), text)
