"""The only module that talks to a cluster: a thin layer over the kubernetes client's dynamic
client (server-side apply with field manager ``samepack``, reads, watches, logs). Decisions live
in the pure modules; this one only carries them out and turns client errors into RemoteError."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from samepack.errors import InputError, RemoteError, ToolMissingError
from samepack.k8s.names import FIELD_MANAGER
from samepack.k8s.validate import describe

POLL_SECONDS = 2.0


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


@contextmanager
def _remote(what: str) -> Iterator[None]:
    kubernetes = _kubernetes()
    try:
        yield
    except kubernetes.client.exceptions.ApiException as error:
        reason = (error.reason or "").strip()
        raise RemoteError(f"{what}: the API server answered {error.status} {reason}",
                          hint="check your permissions in the namespace (kubectl auth can-i)") from None
    except Exception as error:  # urllib3 connection errors and the like
        if type(error).__module__.startswith(("urllib3", "ssl", "socket")) or isinstance(error, OSError):
            raise RemoteError(f"{what}: cannot reach the cluster ({type(error).__name__})",
                              hint="check the kubeconfig's server address and your network") from None
        raise


class Cluster:
    """A connection to one cluster (one kubeconfig context)."""

    def __init__(self, api_client) -> None:
        kubernetes = _kubernetes()
        self.api_client = api_client
        with _remote("discovering the API"):
            self.dynamic = kubernetes.dynamic.DynamicClient(api_client)

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
            api_client = config.new_client_from_config(config_file=str(path), context=context)
        except config.ConfigException as error:
            raise InputError(f"{path}: {str(error).strip().splitlines()[0]}",
                             hint="check --context and the kubeconfig file") from None
        return cls(api_client)

    def _resource(self, api_version: str, kind: str):
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        try:
            return self.dynamic.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            raise RemoteError(f"the cluster does not serve {kind} ({api_version})",
                              hint="install the CRD or choose another target") from None

    def serves(self, api_version: str, kind: str) -> bool:
        """Whether the cluster knows a kind (e.g. Argo's Workflow CRD is installed)."""
        try:
            self._resource(api_version, kind)
        except RemoteError:
            return False
        return True

    def apply(self, obj: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        """Server-side apply ``obj`` (or only ask the server what it would do)."""
        resource = self._resource(obj["apiVersion"], obj["kind"])
        with _remote(f"applying {describe(obj)}"):
            result = self.dynamic.server_side_apply(
                resource, body=obj, namespace=obj["metadata"].get("namespace"),
                field_manager=FIELD_MANAGER, force_conflicts=True,
                dry_run="All" if dry_run else None)
        return result.to_dict()

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None):
        """The live object, or None."""
        from kubernetes.dynamic.exceptions import NotFoundError

        resource = self._resource(api_version, kind)
        with _remote(f"reading {kind}/{name}"):
            try:
                return resource.get(name=name, namespace=namespace).to_dict()
            except NotFoundError:
                return None

    def live(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        meta = obj["metadata"]
        return self.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))

    def nodes(self) -> list[dict[str, Any]]:
        resource = self._resource("v1", "Node")
        with _remote("listing nodes"):
            return [item for item in resource.get().to_dict().get("items", [])]

    def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        resource = self._resource("v1", "Pod")
        with _remote("listing pods"):
            return resource.get(namespace=namespace, label_selector=selector).to_dict()["items"]

    def follow_log(self, namespace: str, pod: str, container: str) -> Iterator[str]:
        """The container's log lines as they come (until it exits)."""
        kubernetes = _kubernetes()
        core = kubernetes.client.CoreV1Api(self.api_client)
        with _remote(f"reading the log of {pod}/{container}"):
            stream = core.read_namespaced_pod_log(pod, namespace, container=container,
                                                  follow=True, _preload_content=False)
            buffer = b""
            for chunk in stream.stream():
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    yield line.decode("utf-8", errors="replace")
            if buffer:
                yield buffer.decode("utf-8", errors="replace")

    def wait_for(self, api_version: str, kind: str, name: str, namespace: str,
                 done, timeout: float) -> dict[str, Any]:
        """Poll an object until ``done(obj)`` gives a verdict (not None); the last object."""
        deadline = time.monotonic() + timeout
        while True:
            obj = self.get(api_version, kind, name, namespace) or {}
            if done(obj) is not None:
                return obj
            if time.monotonic() > deadline:
                raise RemoteError(f"{kind}/{name}: no result after {int(timeout)} s",
                                  hint=f"kubectl -n {namespace} describe {kind.lower()} {name}")
            time.sleep(POLL_SECONDS)
