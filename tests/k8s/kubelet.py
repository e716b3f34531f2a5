"""A stand-in for kubelet and scheduler in tests (the idea of ../shared/envtest/fake-kubelet.py):
a thread that binds each Pending pod of one namespace to a node and reports it finished, with
the exit code and termination message a test chooses per pod. Nothing is run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

Outcome = tuple[int, str]  # (exit code, termination message of the step's container)
Decide = Callable[[dict], Outcome | None]  # None: leave the pod Pending


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class FakeKubelet:
    def __init__(self, kubeconfig: str, namespace: str, decide: Decide, node: str = "node-1"):
        from kubernetes import client, config

        self.core = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
        self.namespace, self.decide, self.node = namespace, decide, node
        self.finished: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> "FakeKubelet":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        done: set[str] = set()
        while not self._stop.is_set():
            try:
                pods = self.core.list_namespaced_pod(self.namespace).items
            except Exception:
                pods = []
            for pod in pods:
                uid = pod.metadata.uid
                if uid in done or pod.status.phase != "Pending" or pod.metadata.deletion_timestamp:
                    continue
                outcome = self.decide(self.core.api_client.sanitize_for_serialization(pod))
                if outcome is None:
                    continue
                done.add(uid)
                try:
                    self._finish(pod, *outcome)
                except Exception:  # the pod went away meanwhile
                    continue
            time.sleep(0.3)

    def _finish(self, pod, code: int, message: str) -> None:
        from kubernetes import client

        name = pod.metadata.name
        if not pod.spec.node_name:
            self.core.create_namespaced_binding(self.namespace, client.V1Binding(
                metadata=client.V1ObjectMeta(name=name),
                target=client.V1ObjectReference(kind="Node", name=self.node, api_version="v1")),
                _preload_content=False)
        t = _now()

        def terminated(container, exit_code: int, text: str) -> dict:
            state = {"exitCode": exit_code, "reason": "Completed" if exit_code == 0 else "Error",
                     "startedAt": t, "finishedAt": t}
            if text:
                state["message"] = text
            return {"name": container.name, "image": container.image, "imageID": "",
                    "ready": False, "restartCount": 0, "started": False,
                    "state": {"terminated": state}}

        status = {"phase": "Succeeded" if code == 0 else "Failed", "startTime": t,
                  "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": t}],
                  "initContainerStatuses": [terminated(c, 0, "") for c in pod.spec.init_containers or []],
                  "containerStatuses": [terminated(c, code, message) for c in pod.spec.containers]}
        self.core.patch_namespaced_pod_status(name, self.namespace, {"status": status})
        self.finished.append(name)


class LocalKubelet(FakeKubelet):
    """Runs the step container's command on this machine (the result script from the pod's
    ConfigMap, ``python``/``python3`` as this interpreter, the container's plain environment
    values, ``work/workspace`` as the workspace) and reports what it left."""

    def __init__(self, kube, namespace: str, work: Path):
        super().__init__(str(kube.kubeconfig()), namespace, self.run_pod)
        self.kube, self.work = kube, work
        self.workspace = work / "workspace"
        self.workspace.mkdir(exist_ok=True)

    def run_pod(self, pod: dict):
        container = pod["spec"]["containers"][0]
        config = next(v["configMap"]["name"] for v in pod["spec"]["volumes"] if "configMap" in v)
        script = json.loads(self.kube.kubectl("-n", self.namespace, "get", "configmap", config,
                                              "-o", "json"))["data"]["result.py"]
        (self.work / "result.py").write_text(script)
        argv = [sys.executable if word in ("python", "python3") else word
                for word in container["command"]]
        argv[1] = str(self.work / "result.py")
        log = self.work / f"{pod['metadata']['name']}.termination-log"
        plain = self.environment(container)
        done = subprocess.run(argv, cwd=self.workspace, capture_output=True, timeout=60,
                              env={**os.environ, **plain, "SAMEPACK_TERMINATION_LOG": str(log),
                                   "SAMEPACK_WORKSPACE": str(self.workspace)})
        return done.returncode, log.read_text()

    def environment(self, container: dict) -> dict[str, str]:
        """The container's environment as kubelet makes it: plain values, and ``secretKeyRef``
        values read from the Secret in the API server. One that is absent is left out (where
        kubelet would hold a non-optional one's pod in CreateContainerConfigError)."""
        import base64

        env = {}
        for entry in container.get("env") or []:
            if "value" in entry:
                env[entry["name"]] = entry["value"]
                continue
            ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
            if not ref:
                continue
            try:
                secret = self.core.read_namespaced_secret(ref["name"], self.namespace)
            except Exception:
                continue
            value = (secret.data or {}).get(ref["key"])
            if value is not None:
                env[entry["name"]] = base64.b64decode(value).decode("utf-8")
        return env
