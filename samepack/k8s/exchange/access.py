"""How a run's pods reach the exchange registry when it wants a login.

The credentials are this machine's own for the registry's host (``samepack.oci.credentials``:
``$SAMEPACK_REGISTRY_USER``/``PASSWORD``, Docker's config or its credential helpers). They go
into one Secret of the run's namespace, ``PROGRAM-registry``, applied with the run's objects and
never rendered into ``infra/`` or a bundle; each pod that talks to the registry gets them by
reference (``SAMEPACK_REGISTRY_AUTH``, an optional ``secretKeyRef``) beside the registry's base
URL (``SAMEPACK_REGISTRY_URL``).

``REGISTRY_OPEN_FUNCTION`` is the Python the pods' scripts share (the data set fetch and the
result script): ``registry_open(make, timeout)`` answers the registry's 401 challenge once,
Basic or Bearer (the token fetched from the challenge's realm with the same login, as Docker
does), and sends the credentials to nothing but URLs under the registry's base URL and the realm
it names (https, or plain http to the registry's own host name, which already has the login). A redirect to another host (blob storage) drops
the ``Authorization`` header."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from samepack.k8s.objects.names import dns_name, program_labels

AUTH_ENV = "SAMEPACK_REGISTRY_AUTH"  # USER:PASSWORD, from the run's registry Secret
REGISTRY_URL_ENV = "SAMEPACK_REGISTRY_URL"  # the only place those credentials are sent
AUTH_KEY = "auth"


@dataclass(frozen=True)
class ExchangeAccess:
    """What a run's pods are told about the exchange registry."""

    outputs_url: str  # where a step starts the upload of an output file
    registry_url: str  # the registry's base URL (``http[s]://HOST``)
    auth_secret: str | None = None  # the Secret with this machine's login, when it has one

    def env(self) -> list[dict[str, Any]]:
        """The environment entries that let a pod's script log in (none when anonymous)."""
        if not self.auth_secret:
            return []
        return [{"name": AUTH_ENV, "valueFrom": {"secretKeyRef": {
                    "name": self.auth_secret, "key": AUTH_KEY, "optional": True}}},
                {"name": REGISTRY_URL_ENV, "value": self.registry_url}]


def auth_secret_name(program_name: str) -> str:
    return dns_name(program_name, "registry", limit=253)


def exchange_access(registry, program, namespace: str) -> tuple[ExchangeAccess, list[dict]]:
    """The pods' view of ``registry`` (a ``ClusterRegistry``) and the Secret objects it needs:
    one with this machine's login for the registry's host, none when it has no login."""
    from samepack.oci.credentials import lookup_credentials

    credentials = lookup_credentials(registry.registry.host)
    if credentials is None:
        return ExchangeAccess(registry.upload_url, registry.base_url), []
    name = auth_secret_name(program.name)
    login = f"{credentials.username}:{credentials.password}".encode("utf-8")
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": name, "namespace": namespace,
                           "labels": program_labels(program.name, program.version)},
              "data": {AUTH_KEY: base64.b64encode(login).decode("ascii")}}
    return ExchangeAccess(registry.upload_url, registry.base_url, name), [secret]


REGISTRY_OPEN_FUNCTION = """\
import base64 as _b64, json as _json, os as _os, re as _re
import urllib.error as _uerror, urllib.parse as _uparse, urllib.request as _urequest
class _DropLoginElsewhere(_urequest.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _uparse.urlsplit(newurl).netloc != _uparse.urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new
_OPENER = _urequest.build_opener(_DropLoginElsewhere)
_LOGIN = {}
def _answer(challenge, base, login):
    scheme, _, rest = challenge.partition(" ")
    params = dict(_re.findall(r'(\\w+)="([^"]*)"', rest))
    basic = "Basic " + _b64.b64encode(login.encode("utf-8")).decode("ascii")
    if scheme.lower() == "basic":
        return basic
    realm = params.get("realm", "")
    if scheme.lower() != "bearer" or not (realm.startswith("https://") or
            _uparse.urlsplit(realm).hostname == _uparse.urlsplit(base).hostname):
        return None
    query = _uparse.urlencode({k: params[k] for k in ("service", "scope") if k in params})
    token = _urequest.Request(realm + ("&" if "?" in realm else "?") + query,
                              headers={"Authorization": basic})
    with _OPENER.open(token, timeout=60) as answer:
        body = _json.loads(answer.read(1 << 20))
    return "Bearer " + str(body.get("token") or body.get("access_token") or "")
def registry_open(make, timeout):
    base = _os.environ.get("SAMEPACK_REGISTRY_URL", "").rstrip("/")
    login = _os.environ.get("SAMEPACK_REGISTRY_AUTH", "")
    request = make()
    mine = bool(base and login) and request.full_url.startswith(base + "/")
    if mine and _LOGIN.get("value"):
        request.add_header("Authorization", _LOGIN["value"])
    try:
        return _OPENER.open(request, timeout=timeout)
    except _uerror.HTTPError as error:
        challenge = error.headers.get("WWW-Authenticate", "") if error.code == 401 else ""
        if not (mine and challenge):
            raise
        error.close()
        _LOGIN["value"] = _answer(challenge, base, login)
        if not _LOGIN["value"]:
            raise
    request = make()
    request.add_header("Authorization", _LOGIN["value"])
    return _OPENER.open(request, timeout=timeout)
"""
