"""What a failed request to a cluster means, in one line with the server's own reason, and the
hint that fits it: bad credentials (401), not allowed (403), not there (404), rejected by
validation (422), a certificate the kubeconfig's CA did not sign, no answer in time, no
connection. Pure: the caller passes what the client raised."""

from __future__ import annotations

import json
import re

from samepack.errors import RemoteError

_MAX_REASON = 400
_QUOTED_OBJECT = re.compile(r"(Invalid value: )\{.*?\}: (?=field is immutable|must be|may not)")

_HINTS = {
    401: "the cluster did not accept your credentials: refresh the token or client certificate "
         "in your kubeconfig (e.g. your cloud's get-credentials command)",
    403: "your account may not do this here: kubectl auth can-i --list -n NAMESPACE, or ask "
         "the cluster's admin for a Role",
    404: "the object, its namespace or its API is not on this cluster: check --namespace and "
         "that the CRD is installed",
    409: "someone else changed the object meanwhile: run the command again",
    422: "the server rejected the object: fix the field it names (or run samepack deploy again: "
         "it replaces Jobs whose pod template changed)",
}


def server_message(body, limit: int | None = _MAX_REASON) -> str | None:
    """The ``message`` of a Kubernetes Status body, on one line (object values the server
    quotes back, such as a whole pod template, shown as ``{...}``), cut at ``limit``."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if not body:
        return None
    try:
        message = json.loads(body).get("message")
    except (ValueError, AttributeError):
        message = body
    if not message:
        return None
    line = _QUOTED_OBJECT.sub(r"\1{...}: ", " ".join(str(message).split()))
    return line if limit is None or len(line) <= limit else line[: limit - 3] + "..."


class ApiError(RemoteError):
    """An HTTP answer of the API server other than success, with its status and message."""

    def __init__(self, message: str, hint: str | None, status: int, server_message: str | None):
        super().__init__(message, hint=hint)
        self.status = status
        self.server_message = server_message or ""

    @property
    def immutable(self) -> bool:
        """The server refused to change a field that cannot change (a Job's pod template)."""
        return self.status == 422 and "field is immutable" in self.server_message


def api_error(what: str, status: int | None, reason: str | None, body) -> ApiError:
    """The error for an HTTP answer the API server gave."""
    head = f"{what}: the API server answered {status} {(reason or '').strip()}".rstrip()
    message = server_message(body)
    if message:
        head += f": {message}"
    hint = _HINTS.get(status or 0)
    if hint is None:
        hint = ("the API server failed: look at its health (kubectl get --raw /readyz) and try "
                "again" if (status or 0) >= 500 else "see the server's message above")
    return ApiError(head, hint, status or 0, server_message(body, limit=None))


def _chain(error: BaseException | None) -> list[BaseException]:
    """``error`` and what it wraps (urllib3 keeps the cause in ``reason``, Python in
    ``__cause__``/``__context__``)."""
    seen: list[BaseException] = []
    while error is not None and error not in seen:
        seen.append(error)
        reason = getattr(error, "reason", None)
        error = reason if isinstance(reason, BaseException) else (error.__cause__ or error.__context__)
    return seen


def connection_error(what: str, error: BaseException,
                     timeout: tuple[float, float]) -> RemoteError | None:
    """The error for a request that got no HTTP answer; None when ``error`` is not one."""
    if not (type(error).__module__.startswith(("urllib3", "ssl", "socket"))
            or isinstance(error, OSError)):
        return None
    chain = _chain(error)
    text = " ".join(str(e) for e in chain)
    names = {type(e).__name__ for e in chain}
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSLCertVerificationError" in names:
        return RemoteError(f"{what}: the cluster's certificate is not trusted "
                           f"(not signed by the CA in your kubeconfig)",
                           hint="check certificate-authority / certificate-authority-data of the "
                                "cluster in your kubeconfig")
    if names & {"ReadTimeoutError", "TimeoutError", "ConnectTimeoutError"} or "timed out" in text:
        return RemoteError(f"{what}: the cluster did not answer within {timeout[1]:g} s",
                           hint="check that the kubeconfig's server address is the API server; "
                                "SAMEPACK_K8S_REQUEST_TIMEOUT=SECONDS waits longer")
    return RemoteError(f"{what}: cannot reach the cluster ({type(error).__name__})",
                       hint="check the kubeconfig's server address and your network")
