"""A URL's user information (``user:password@`` before its host), split once for every module
that reads, replaces or strips index credentials."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import SplitResult, urlsplit, urlunsplit


class UserInfo(NamedTuple):
    """The user information of a URL, as written (percent-encoded)."""

    parts: SplitResult  # the whole URL's parts
    user: str
    password: str | None  # None: no ``:`` (a user name standing alone: a token)
    host: str  # the host and port after the ``@``

    @property
    def text(self) -> str:
        """The user information as it stands in the URL, without the ``@``."""
        return self.user if self.password is None else f"{self.user}:{self.password}"

    def url_with(self, userinfo: str | None) -> str:
        """The URL with ``userinfo`` in place of its own (None: none at all)."""
        netloc = self.host if userinfo is None else f"{userinfo}@{self.host}"
        return urlunsplit(self.parts._replace(netloc=netloc))


def user_info(url: str) -> UserInfo | None:
    """``url``'s user information, or None when it has none or is no URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if "@" not in parts.netloc:
        return None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    return UserInfo(parts, user, password if colon else None, host)
