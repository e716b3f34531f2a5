"""The only module that talks to a cluster: a thin layer over the kubernetes client's dynamic
client (server-side apply with field manager ``samepack``, reads, deletes, logs). Decisions live
in the pure modules; this one only carries them out and turns client errors into RemoteError
with the server's own reason and a hint that fits it (``samepack.k8s.api.errors``).

Every request has a timeout (``REQUEST_TIMEOUT``: connect, read), and API discovery is never
taken from a cache another process left behind: the dynamic client's discovery cache lives in a
private file removed on close, and ``serves`` asks the server each time."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from samepack.errors import InputError, RemoteError, ToolMissingError
from samepack.k8s.api.errors import api_error, connection_error
from samepack.k8s.objects.names import FIELD_MANAGER
from samepack.k8s.api.validate import describe

POLL_SECONDS = 1.0
REQUEST_TIMEOUT = (10.0, 60.0)  # seconds to connect, seconds to wait for an answer


def _kubernetes():
    try:
        import kubernetes
        from kubernetes import config, dynamic  # noqa: F401
    except ImportError:
        raise ToolMissingError("the kubernetes client is not installed",
                               hint="pip install 'samepack[kubernetes]'") from None
    return kubernetes


def kubeconfig_path() -> Path | None:
    """The kubeconfig the client would read, when there is one."""
    configured = os.environ.get("KUBECONFIG")
    if configured:
        first = configured.split(os.pathsep)[0]
        return Path(first) if Path(first).is_file() else None
    default = Path.home() / ".kube" / "config"
    return default if default.is_file() else None


def _request_timeout() -> tuple[float, float]:
    """``REQUEST_TIMEOUT``, or ``SAMEPACK_K8S_REQUEST_TIMEOUT`` seconds (read) when set."""
    from samepack.settings import seconds_setting

    seconds = seconds_setting("SAMEPACK_K8S_REQUEST_TIMEOUT", REQUEST_TIMEOUT[1])
    return (min(REQUEST_TIMEOUT[0], seconds), seconds)


def _with_timeout(api_client, timeout: tuple[float, float]) -> None:
    """Give every request of ``api_client`` a timeout unless the call brings its own (the
    client's default is to wait forever, discovery included)."""
    rest = api_client.rest_client
    request = rest.request

    def timed(*args, _request_timeout=None, **kwargs):
        return request(*args, _request_timeout=_request_timeout or timeout, **kwargs)

    rest.request = timed


@contextmanager
def _remote(what: str, timeout: tuple[float, float] = REQUEST_TIMEOUT) -> Iterator[None]:
    kubernetes = _kubernetes()
    try:
        yield
    except kubernetes.client.exceptions.ApiException as error:
        raise api_error(what, error.status, error.reason, error.body) from None
    except Exception as error:  # urllib3 connection errors and the like
        failure = connection_error(what, error, timeout)
        if failure is None:
            raise
        raise failure from None


class Cluster:
    """A connection to one cluster (one kubeconfig context)."""

    def __init__(self, api_client, context: str | None = None) -> None:
        kubernetes = _kubernetes()
        self.api_client = api_client
        self.context = context  # the kubeconfig context's name (None inside a cluster)
        self.timeout = _request_timeout()
        _with_timeout(api_client, self.timeout)
        self._cache_dir = tempfile.mkdtemp(prefix="samepack-k8s-discovery-")
        with _remote("discovering the API", self.timeout):
            self.dynamic = kubernetes.dynamic.DynamicClient(
                api_client, cache_file=os.path.join(self._cache_dir, "discovery.json"))

    def close(self) -> None:
        shutil.rmtree(self._cache_dir, ignore_errors=True)
        self.api_client.close()

    def __del__(self) -> None:
        shutil.rmtree(getattr(self, "_cache_dir", ""), ignore_errors=True)

    @classmethod
    def connect(cls, context: str | None = None) -> "Cluster":
        kubernetes = _kubernetes()
        config = kubernetes.config
        path = kubeconfig_path()
        if path is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config()
            return cls(kubernetes.client.ApiClient())
        if path is None:
            raise InputError("no kubeconfig: KUBECONFIG is not set and ~/.kube/config does not exist",
                             hint="point KUBECONFIG at your cluster's kubeconfig file")
        try:
            contexts, active = config.list_kube_config_contexts(config_file=str(path))
            if context and context not in {c.get("name") for c in contexts}:
                raise InputError(f"{path}: has no context '{context}'",
                                 hint="kubectl config get-contexts lists them; point KUBECONFIG "
                                      "at the kubeconfig that has it")
            api_client = config.new_client_from_config(config_file=str(path), context=context)
        except config.ConfigException as error:
            raise InputError(f"{path}: {str(error).strip().splitlines()[0]}",
                             hint="check --context and the kubeconfig file") from None
        return cls(api_client, context or (active or {}).get("name"))

    def _resource(self, api_version: str, kind: str):
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        for attempt in range(2):
            try:
                with _remote(f"discovering {kind} ({api_version})", self.timeout):
                    return self.dynamic.resources.get(api_version=api_version, kind=kind)
            except ResourceNotFoundError:
                if attempt == 0:  # the cluster may have gained the kind since discovery
                    self.dynamic.resources.invalidate_cache()
        raise RemoteError(f"the cluster does not serve {kind} ({api_version})",
                          hint="install the CRD or choose another target")

    def serves(self, api_version: str, kind: str) -> bool:
        """Whether the cluster serves a kind now (e.g. Argo's Workflow CRD is installed), asked
        of the server itself, not of a discovery cache."""
        from kubernetes.client import CustomObjectsApi

        group, _, version = api_version.rpartition("/")
        if not group:
            return self._served_by_cache(api_version, kind)
        try:
            with _remote(f"discovering {api_version}", self.timeout):
                listing = CustomObjectsApi(self.api_client).get_api_resources(group, version)
        except RemoteError as error:
            if " 404 " in error.message:
                return False
            raise
        return any(resource.kind == kind for resource in listing.resources or [])

    def _served_by_cache(self, api_version: str, kind: str) -> bool:
        try:
            self._resource(api_version, kind)
        except RemoteError:
            return False
        return True

    def apply(self, obj: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        """Server-side apply ``obj`` (or only ask the server what it would do)."""
        resource = self._resource(obj["apiVersion"], obj["kind"])
        with _remote(f"applying {describe(obj)}", self.timeout):
            result = self.dynamic.server_side_apply(
                resource, body=obj, namespace=obj["metadata"].get("namespace"),
                field_manager=FIELD_MANAGER, force_conflicts=True,
                dry_run="All" if dry_run else None)
        return result.to_dict()

    def merge_patch(self, api_version: str, kind: str, name: str, namespace: str | None,
                    patch: dict[str, Any]) -> dict[str, Any]:
        """A JSON merge patch of one field or a few (e.g. a suspended Job's ``spec.suspend``),
        leaving the fields the last apply set as they are."""
        resource = self._resource(api_version, kind)
        with _remote(f"patching {kind}/{name}", self.timeout):
            result = resource.patch(body=patch, name=name, namespace=namespace,
                                    content_type="application/merge-patch+json",
                                    field_manager=FIELD_MANAGER)
        return result.to_dict()

    def create(self, obj: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        """Create ``obj`` (a dry run asks the server what a new object would look like)."""
        resource = self._resource(obj["apiVersion"], obj["kind"])
        with _remote(f"creating {describe(obj)}", self.timeout):
            result = self.dynamic.create(resource, body=obj, namespace=obj["metadata"].get("namespace"),
                                         field_manager=FIELD_MANAGER,
                                         dry_run="All" if dry_run else None)
        return result.to_dict()

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None,
               wait: float = 60.0) -> bool:
        """Delete one object (its dependents in the background); wait until it is gone.
        False when there was nothing to delete."""
        from kubernetes.dynamic.exceptions import NotFoundError

        resource = self._resource(api_version, kind)
        with _remote(f"deleting {kind}/{name}", self.timeout):
            try:
                resource.delete(name=name, namespace=namespace,
                                body={"propagationPolicy": "Background"})
            except NotFoundError:
                return False
        deadline = time.monotonic() + wait
        while wait and self.get(api_version, kind, name, namespace) is not None:
            if time.monotonic() > deadline:
                raise RemoteError(f"{kind}/{name}: still there {int(wait)} s after deleting it",
                                  hint=f"kubectl -n {namespace} get {kind.lower()} {name} -o yaml "
                                       f"(look for finalizers)")
            time.sleep(0.2)
        return True

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None):
        """The live object, or None."""
        from kubernetes.dynamic.exceptions import NotFoundError

        resource = self._resource(api_version, kind)
        with _remote(f"reading {kind}/{name}", self.timeout):
            try:
                return resource.get(name=name, namespace=namespace).to_dict()
            except NotFoundError:
                return None

    def list(self, api_version: str, kind: str, namespace: str | None,
             selector: str) -> list[dict[str, Any]]:
        """Objects of one kind matching a label selector."""
        resource = self._resource(api_version, kind)
        with _remote(f"listing {kind}", self.timeout):
            return resource.get(namespace=namespace, label_selector=selector).to_dict()["items"]

    def live(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        meta = obj["metadata"]
        return self.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))

    def nodes(self) -> list[dict[str, Any]]:
        resource = self._resource("v1", "Node")
        with _remote("listing nodes", self.timeout):
            return [item for item in resource.get().to_dict().get("items", [])]

    def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        return self.list("v1", "Pod", namespace, selector)

    def follow_log(self, namespace: str, pod: str, container: str) -> Iterator[str]:
        """The container's log lines as they come (until it exits)."""
        kubernetes = _kubernetes()
        core = kubernetes.client.CoreV1Api(self.api_client)
        with _remote(f"reading the log of {pod}/{container}", self.timeout):
            stream = core.read_namespaced_pod_log(pod, namespace, container=container,
                                                  follow=True, _preload_content=False,
                                                  _request_timeout=(self.timeout[0], 24 * 3600))
            buffer = b""
            for chunk in stream.stream():
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    yield line.decode("utf-8", errors="replace")
            if buffer:
                yield buffer.decode("utf-8", errors="replace")

    def wait_for(self, api_version: str, kind: str, name: str, namespace: str,
                 done, timeout: float, why=None) -> dict[str, Any]:
        """Poll an object until ``done(obj)`` gives a verdict (not None); the last object.
        ``why()`` may say, on timeout, what holds it up (e.g. a pod's Pending reason)."""
        deadline = time.monotonic() + timeout
        while True:
            obj = self.get(api_version, kind, name, namespace) or {}
            if done(obj) is not None:
                return obj
            if time.monotonic() > deadline:
                reason = why() if why else None
                raise RemoteError(f"{kind}/{name}: no result after {timeout:g} s"
                                  + (f" ({reason})" if reason else ""),
                                  hint=f"kubectl -n {namespace} describe {kind.lower()} {name}; "
                                       f"wait longer with --timeout SECONDS, or --no-wait")
            time.sleep(POLL_SECONDS)
