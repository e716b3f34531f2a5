"""Credentials in index URLs never reach a lock, a record or a message.

A URL's literal credentials are replaced by pip's environment-variable form, which pip and uv
expand when they read a requirement file (``${NAME}``, NAME of capitals, digits and ``_``): the
password of ``https://user:secret@host/simple`` becomes ``${SAMEPACK_INDEX_HOST_PASSWORD}``,
and a user name that stands alone (a token, ``https://TOKEN@host/``) becomes
``${SAMEPACK_INDEX_HOST_TOKEN}``; the user name beside a password is kept, as pip keeps it
when it redacts a URL. Parts that already are ``${NAME}`` references are left as they are.
Where one host carries several credentials, each place's has a name of its own
(:mod:`samepack.lock.credential_names`): the URLs that go into one lock are named together.
"""

from __future__ import annotations

import os
import re
from typing import Mapping

from samepack.lock.credential_names import CredentialNames, credential_names, variable_prefix
from samepack.lock.userinfo import user_info

_REFERENCES = re.compile(r"(?:\$\{[A-Z0-9_]+\})+")
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/\s@]+)@")


__all__ = ["CredentialNames", "credential_names", "variable_prefix", "without_credentials",
           "credential_values", "masked", "references", "expanded", "off_command_line"]


def without_credentials(url: str, names: CredentialNames | None = None
                        ) -> tuple[str, tuple[str, ...]]:
    """``url`` with its literal credentials replaced by ``${VAR}`` references, and the names
    of the variables it now needs that it did not before. ``names``: those of the URLs it is
    written with (:func:`credential_names`); without them, its host's."""
    safe, values = _replaced(url, names or CredentialNames())
    return safe, tuple(values)


def credential_values(url: str, names: CredentialNames | None = None) -> dict[str, str]:
    """The literal credentials of ``url`` by the variable :func:`without_credentials` names
    them with (``{"SAMEPACK_INDEX_HOST_PASSWORD": "secret"}``): what the project's own file
    supplies for the lock's ``${VAR}``. Values are as written in the URL (percent-encoded)."""
    return _replaced(url, names or CredentialNames())[1]


def _replaced(url: str, names: CredentialNames) -> tuple[str, dict[str, str]]:
    info = user_info(url)
    if info is None:
        return url, {}
    user, password = info.user, info.password
    prefix = names.prefix(url)
    values: dict[str, str] = {}
    if password is not None:
        if password and not _REFERENCES.fullmatch(password):
            values[f"{prefix}_PASSWORD"] = password
            password = "${" + prefix + "_PASSWORD}"
        userinfo = f"{user}:{password}"
    elif user and not _REFERENCES.fullmatch(user):
        values[f"{prefix}_TOKEN"] = user
        userinfo = "${" + prefix + "_TOKEN}"
    if not values:
        return url, {}
    return info.url_with(userinfo), values


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


def references(text: str) -> list[str]:
    """The names of the ``${NAME}`` references in ``text``, in order, each once."""
    return list(dict.fromkeys(_VARIABLE.findall(text)))


def expanded(text: str, supplied: Mapping[str, str] | None = None) -> str:
    """``${NAME}`` references replaced by the variables' values, as pip does in requirement
    files (an unset or empty variable is left as written); ``supplied`` fills in variables
    this process's environment lacks."""
    def value(match: re.Match) -> str:
        name = match.group(1)
        return os.environ.get(name) or (supplied or {}).get(name) or match.group(0)

    return _VARIABLE.sub(value, text)


# the tools' environment variable for each index flag, and how it separates several values
UV_FLAG_VARIABLES = {"--index-url": ("UV_INDEX_URL", " "),
                     "--extra-index-url": ("UV_EXTRA_INDEX_URL", " "),
                     "--find-links": ("UV_FIND_LINKS", ",")}
PIP_FLAG_VARIABLES = {"--index-url": ("PIP_INDEX_URL", " "),
                      "--extra-index-url": ("PIP_EXTRA_INDEX_URL", " "),
                      "--find-links": ("PIP_FIND_LINKS", " ")}


def off_command_line(args: list[str], variables: dict[str, tuple[str, str]] = UV_FLAG_VARIABLES
                     ) -> tuple[list[str], dict[str, str]]:
    """Index flags for a tool (uv's ``variables``, or pip's), and the variables to add to its
    environment: a flag whose value carries a credential (not a ``${VAR}`` reference) goes
    there, with the other values of that flag (the tools read a flag's variable only when the
    flag is not given), so that no credential is on a command line, which any user of the
    machine can read."""
    secret = {flag for flag, value in zip(args, args[1:])
              if flag in variables and without_credentials(value)[1]}
    kept: list[str] = []
    moved: dict[str, list[str]] = {}
    position = 0
    while position < len(args):
        flag = args[position]
        if flag in secret:
            moved.setdefault(flag, []).append(args[position + 1])
            position += 2
        else:
            kept.append(flag)
            position += 1
    environment = {variables[flag][0]: variables[flag][1].join(values)
                   for flag, values in moved.items()}
    return kept, environment
