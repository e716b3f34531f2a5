"""HTTP to one registry: scheme choice, basic and bearer-token auth, bounded retries.

Everything that crosses the network for ``samepack.oci`` goes through :class:`Transport`.
Faults are split in three: a registry that cannot be reached at first contact, or that answers
4xx, fails at once with a one-line error; a registry that stops answering (no byte within the
timeout, ``$SAMEPACK_REGISTRY_TIMEOUT`` seconds) fails at once too, since a frozen registry
does not thaw in seconds; 5xx answers and dropped connections after first contact (a registry
restarting) are retried a few times with a short, bounded backoff.
"""

from __future__ import annotations

import base64
import os
import re
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from samepack.errors import NotFoundError, RemoteError
from samepack.oci.credentials import Credentials, lookup_credentials
from samepack.oci.reference import is_loopback

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError, urllib3.exceptions.HTTPError)


INSECURE_ENV = "SAMEPACK_INSECURE_REGISTRIES"
TIMEOUT_ENV = "SAMEPACK_REGISTRY_TIMEOUT"
DEFAULT_TIMEOUT = 20.0  # seconds without a byte from the registry; a frozen one fails in this
TIMEOUT_HINT = (f"the registry accepted the connection but stopped answering; if it is only "
                f"slow, raise {TIMEOUT_ENV} (seconds, default {DEFAULT_TIMEOUT:g})")


def registry_timeout() -> tuple[float, float]:
    """(connect, read) timeouts from ``$SAMEPACK_REGISTRY_TIMEOUT``."""
    from samepack.settings import seconds_setting

    seconds = seconds_setting(TIMEOUT_ENV, DEFAULT_TIMEOUT)
    return (min(5.0, seconds), seconds)


def is_timeout(error: BaseException) -> bool:
    """A timeout from requests or from urllib3 while a body streams."""
    return isinstance(error, (requests.Timeout, urllib3.exceptions.TimeoutError))


class StalledError(RemoteError):
    """The registry stopped answering within the timeout: not retried."""
RETRY_HINT = "the registry may be restarting or overloaded; run the command again later"


class TransientError(RemoteError):
    """A fault worth retrying (5xx, timeout, dropped connection) that outlasted the retries."""


@dataclass(frozen=True)
class RetryPolicy:
    """Sleeps between tries; ``len(delays) + 1`` tries in all (default: 4 tries, 9 s of sleep:
    enough for a registry to restart, short enough to give up while someone still waits)."""

    delays: tuple[float, ...] = (0.5, 2.5, 6.0)

    @property
    def tries(self) -> int:
        return len(self.delays) + 1


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "basic" or "bearer"
    params: Mapping[str, str]


def parse_challenge(header: str) -> Challenge:
    """``Bearer realm="https://auth",service="reg",scope="repository:a:pull"`` -> Challenge."""
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return Challenge(scheme.lower(), params)


class Transport:
    """Requests to ``host``'s ``/v2/`` API, authorised on demand from the registry's challenge."""

    def __init__(self, host: str, *, insecure: bool = False,
                 credentials: Credentials | None = None, retry: RetryPolicy | None = None,
                 timeout: tuple[float, float] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.host = host
        self.insecure = insecure
        self.retry = retry or RetryPolicy()
        self.timeout = timeout or registry_timeout()
        self._sleep = sleep
        self._credentials = credentials
        self._credentials_looked_up = credentials is not None
        self._authorization: str | None = None
        self._base: str | None = None
        self.session = requests.Session()
        if is_loopback(host):
            self.session.trust_env = False  # no proxy for a registry on this machine
        if insecure:
            self.session.verify = False
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    # -- connection -------------------------------------------------------------------------
    @property
    def base(self) -> str:
        if self._base is None:
            self.connect()
        assert self._base is not None
        return self._base

    def plain_http_allowed(self, url: str | None = None) -> bool:
        """For this registry (or ``url``): --insecure, a loopback host, or a host listed in
        ``$SAMEPACK_INSECURE_REGISTRIES`` (comma-separated HOST[:PORT], like Docker's
        ``insecure-registries``)."""
        host = urlsplit(url).netloc if url else self.host
        listed = {h.strip().lower() for h in os.environ.get(INSECURE_ENV, "").split(",")}
        return self.insecure or is_loopback(host) or host.lower() in listed - {""}

    def connect(self) -> None:
        """First contact (``GET /v2/``): pick https or, where allowed, plain http; fail fast."""
        schemes = ["https", "http"] if self.plain_http_allowed() else ["https"]
        for scheme in schemes:
            try:
                response = self._first_get(f"{scheme}://{self.host}/v2/")
            except requests.exceptions.SSLError:
                if scheme != schemes[-1]:
                    continue
                raise RemoteError(f"TLS to registry {self.host} failed",
                                  "for a plain-http registry pass --insecure") from None
            except TRANSIENT_ERRORS as error:
                raise RemoteError(f"cannot reach registry {self.host}: {describe_fault(error)}",
                                  "check the host and port, and that the registry is running"
                                  ) from None
            self._base = f"{scheme}://{self.host}"
            if response.status_code == 401:
                self._prepare_basic(response)
            elif response.status_code >= 400:
                raise self.error(response, "checking the registry API")
            return

    def _first_get(self, url: str) -> requests.Response:
        """``GET /v2/``; a 5xx answer is retried (the registry is there, but busy)."""
        failures = 0
        while True:
            response = self.session.get(url, timeout=self.timeout)
            if response.status_code not in RETRY_STATUSES or not self.may_retry(failures):
                return response
            failures += 1

    @property
    def credentials(self) -> Credentials | None:
        if not self._credentials_looked_up:
            self._credentials = lookup_credentials(self.host)
            self._credentials_looked_up = True
        return self._credentials

    def may_retry(self, failures: int) -> bool:
        """Sleep before retry ``failures + 1`` and return True, or False when none is left."""
        if failures >= len(self.retry.delays):
            return False
        self._sleep(self.retry.delays[failures])
        return True

    # -- requests ---------------------------------------------------------------------------
    def url(self, path_or_url: str) -> str:
        """Absolute URL for an API path or a (possibly relative) ``Location`` header."""
        return urljoin(self.base + "/", path_or_url)

    def request(self, method: str, path: str, *, headers: Mapping[str, str] | None = None,
                data: bytes | Iterable[bytes] | None = None, stream: bool = False,
                retry: bool = True,
                params: Mapping[str, str] | None = None) -> requests.Response:
        """Send one request, answering an auth challenge once and retrying transient faults.

        With ``retry=False`` a transient fault raises :class:`TransientError` at once, for
        callers (chunked uploads, resumed downloads) that recover in their own way. A streamed
        body (not bytes) is never sent twice: a fault or renewed auth is left to the caller.
        """
        failures = 0
        while True:
            try:
                response = self._send_authorised(method, path, headers, data, stream, params)
            except TRANSIENT_ERRORS as error:
                if is_timeout(error):
                    raise self.stalled(method, path) from None
                fault = f"did not answer {method} {short_path(path)} ({describe_fault(error)})"
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
                response.close()
                fault = f"answered {response.status_code} to {method} {short_path(path)}"
            if not (retry and self.may_retry(failures)):
                raise TransientError(f"registry {self.host} {fault}", RETRY_HINT)
            failures += 1

    def _send_authorised(self, method, path, headers, data, stream, params) -> requests.Response:
        response = self._send(method, path, headers, data, stream, params)
        if response.status_code == 401 and "WWW-Authenticate" in response.headers:
            had = self._authorization
            self._answer_challenge(response)
            if self._authorization != had or had is None:
                response.close()
                if not isinstance(data, (bytes, type(None))):
                    raise TransientError(f"registry {self.host} renewed the authorization")
                response = self._send(method, path, headers, data, stream, params)
        return response

    def _send(self, method, path, headers, data, stream, params) -> requests.Response:
        all_headers = dict(headers or {})
        if self._authorization:
            all_headers["Authorization"] = self._authorization
        return self.session.request(method, self.url(path), headers=all_headers, data=data,
                                    stream=stream, params=params, timeout=self.timeout,
                                    allow_redirects=True)

    # -- auth -------------------------------------------------------------------------------
    def _prepare_basic(self, response: requests.Response) -> None:
        """After ``/v2/`` asked for auth: send basic credentials from now on, if that is the
        scheme and we have some. Bearer tokens are fetched later, for each request's scope."""
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge.scheme == "basic" and self.credentials is not None:
            self._authorization = "Basic " + basic_token(self.credentials)

    def _answer_challenge(self, response: requests.Response) -> None:
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        credentials = self.credentials
        if challenge.scheme == "basic":
            if credentials is None:
                raise RemoteError(f"registry {self.host} needs a login",
                                  f"run `samepack login {self.host}` or set "
                                  "SAMEPACK_REGISTRY_USER and SAMEPACK_REGISTRY_PASSWORD")
            self._authorization = "Basic " + basic_token(credentials)
        elif challenge.scheme == "bearer":
            self._authorization = "Bearer " + self._fetch_token(challenge, credentials)
        else:
            raise RemoteError(f"registry {self.host} asks for unsupported auth "
                              f"{challenge.scheme!r}")

    def _fetch_token(self, challenge: Challenge, credentials: Credentials | None) -> str:
        realm = challenge.params.get("realm")
        if not realm:
            raise RemoteError(f"registry {self.host} sent a Bearer challenge without a realm")
        query = {k: v for k, v in challenge.params.items() if k in ("service", "scope")}
        if credentials and realm.startswith("http:") and not self.plain_http_allowed(realm):
            raise RemoteError(f"registry {self.host} sends credentials to a plain-http token "
                              f"service ({short_path(realm)})", "pass --insecure if you trust it")
        headers = {"Authorization": "Basic " + basic_token(credentials)} if credentials else {}
        try:
            answer = self.session.get(realm, params=query, headers=headers, timeout=self.timeout)
        except TRANSIENT_ERRORS as error:
            raise RemoteError(f"token service of {self.host} unreachable: "
                              f"{describe_fault(error)}") from None
        if answer.status_code in (401, 403):
            raise self.credentials_refused()
        if answer.status_code >= 400:
            raise RemoteError(f"token service of {self.host} answered {answer.status_code}")
        body = answer.json()
        token = body.get("token") or body.get("access_token")
        if not token:
            raise RemoteError(f"token service of {self.host} gave no token")
        return token

    # -- errors -----------------------------------------------------------------------------
    def stalled(self, method: str, path: str) -> StalledError:
        return StalledError(f"registry {self.host} did not answer {method} {short_path(path)} "
                            f"within {self.timeout[1]:g} s", TIMEOUT_HINT)

    def credentials_refused(self) -> RemoteError:
        source = self.credentials.source if self.credentials else "no credentials"
        return RemoteError(f"registry {self.host} refused the credentials (from {source})",
                           f"check the user and password, then `samepack login {self.host}`")

    def error(self, response: requests.Response, doing: str) -> RemoteError:
        """A one-line error for an unexpected answer, with the registry's own error code."""
        status = response.status_code
        if status == 401:
            return self.credentials_refused()
        detail = registry_error_text(response)
        message = f"registry {self.host} answered {status}{detail} while {doing}"
        if status == 404:
            return NotFoundError(message)
        if status == 403:
            return RemoteError(message, "the account may lack push or pull rights on this "
                                        "repository")
        return RemoteError(message)


def read_limited(response: requests.Response, limit: int, what: str) -> bytes:
    """A streamed answer's body, read only while it stays within ``limit`` bytes: a hostile
    registry's claims do not decide how much memory is used."""
    from samepack.errors import VerificationError

    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise VerificationError(f"{what} is {declared} bytes, over the limit of {limit}",
                                "the registry's copy is damaged or was tampered with")
    chunks, total = [], 0
    with response:
        for chunk in response.iter_content(1024 * 1024):
            total += len(chunk)
            if total > limit:
                raise VerificationError(f"{what} is over the limit of {limit} bytes",
                                        "the registry's copy is damaged or was tampered with")
            chunks.append(chunk)
    return b"".join(chunks)


def basic_token(credentials: Credentials) -> str:
    raw = f"{credentials.username}:{credentials.password}".encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


def registry_error_text(response: requests.Response) -> str:
    """`` (MANIFEST_UNKNOWN: manifest unknown)`` from the registry's JSON error body, or ''."""
    try:
        errors = response.json().get("errors") or []
        first = errors[0]
        return f" ({first.get('code')}: {first.get('message')})"
    except (ValueError, AttributeError, IndexError, KeyError, TypeError):
        return ""


def describe_fault(error: Exception) -> str:
    text = str(error)
    for needle, words in (("Connection refused", "connection refused"),
                          ("timed out", "timed out"), ("Name or service not known", "unknown host"),
                          ("reset by peer", "connection reset"),
                          ("RemoteDisconnected", "connection closed by the registry")):
        if needle in text:
            return words
    return type(error).__name__


def short_path(path: str) -> str:
    return path.split("?", 1)[0]
