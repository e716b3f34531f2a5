"""A stand-in for kubelet and scheduler in tests (the idea of ../shared/envtest/fake-kubelet.py):
a thread that binds each Pending pod of one namespace to a node and reports it finished, with
the exit code and termination message a test chooses per pod. Nothing is run."""

from __future__ import annotations

import threading
import time
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
