"""A real Kubernetes control plane for the tests: etcd, kube-apiserver and
kube-controller-manager from envtest's ``KUBEBUILDER_ASSETS``, on 127.0.0.1 with free ports,
client-certificate auth and RBAC. No kubelet and no scheduler run: pods stay Pending unless
``FakeKubelet`` (tests/k8s/kubelet.py) finishes them.

Started once per test session and stopped by PID (``/work/shared/envtest/start-cluster.sh`` is
the reference for the flags). The node lifecycle controller is off, so registered Node objects
keep the conditions the test gave them instead of turning NotReady after 50 s.
"""

from __future__ import annotations

import base64
import os
import socket
import ssl
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from support import IN_CI, REPO_ROOT

ARGO_CRDS = Path(__file__).parent / "schemas"  # Argo's own CRDs (see schemas/README.md)


def assets_dir() -> Path | None:
    """``KUBEBUILDER_ASSETS``, else the project's ``.envtest/bin`` (scripts/setup.sh --test)."""
    configured = os.environ.get("KUBEBUILDER_ASSETS")
    candidates = [Path(configured)] if configured else []
    candidates.append(REPO_ROOT / ".envtest" / "bin")
    for candidate in candidates:
        if (candidate / "kube-apiserver").is_file():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(directory: Path) -> None:
    """A CA, the API server's serving certificate and client certificates (admin, controller
    manager, and an unprivileged user ``viewer``)."""
    directory.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
             "-days", "30", "-subj", "/CN=samepack-test-ca", cwd=directory)
    (directory / "server.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
    (directory / "client.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=clientAuth\n")
    for name, subject, ext in [("apiserver", "/CN=kube-apiserver", "server.ext"),
                               ("admin", "/O=system:masters/CN=admin", "client.ext"),
                               ("controller-manager", "/CN=system:kube-controller-manager", "client.ext"),
                               ("viewer", "/CN=viewer", "client.ext")]:
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
                 f"{name}.csr", "-subj", subject, cwd=directory)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.crt", "-days", "30", "-extfile", ext,
                 cwd=directory)
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=directory)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=directory)


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


@dataclass
class ControlPlane:
    assets: Path
    state: Path
    api_port: int = 0
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def pki(self) -> Path:
        return self.state / "pki"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    def kubeconfig(self, user: str = "admin", ca: Path | None = None,
                   server: str | None = None) -> Path:
        """A kubeconfig file for ``user`` (``ca`` replaces the cluster's CA, e.g. a wrong one)."""
        path = self.state / f"kubeconfig-{user}-{(ca or self.pki / 'ca.crt').stem}-{abs(hash(server))}"
        path.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: local\n"
            f"clusters:\n- name: local\n  cluster:\n    server: {server or self.server}\n"
            f"    certificate-authority-data: {_b64(ca or self.pki / 'ca.crt')}\n"
            f"users:\n- name: {user}\n  user:\n"
            f"    client-certificate-data: {_b64(self.pki / f'{user}.crt')}\n"
            f"    client-key-data: {_b64(self.pki / f'{user}.key')}\n"
            "contexts:\n- name: local\n  context: {cluster: local, user: " + user + "}\n")
        return path

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        result = subprocess.run([str(self.assets / "kubectl"), "--kubeconfig",
                                 str(self.kubeconfig()), *args], input=input,
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode:
            raise AssertionError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def _start(self, name: str, *args: str) -> None:
        log = open(self.state / f"{name}.log", "wb")
        self.processes[name] = subprocess.Popen([str(self.assets / name), *args], stdin=subprocess.DEVNULL,
                                                stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)
        log.close()

    def _wait(self, name: str, ready, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                tail = (self.state / f"{name}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} exited: {tail}")
            try:
                if ready():
                    return
            except Exception:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{name} not ready after {seconds} s")

    def start(self) -> "ControlPlane":
        make_pki(self.pki)
        etcd_port, peer_port, self.api_port = _free_port(), _free_port(), _free_port()
        pki = self.pki
        self._start("etcd", "--name", "test", "--data-dir", str(self.state / "etcd"),
                    "--listen-client-urls", f"http://127.0.0.1:{etcd_port}",
                    "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
                    "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
                    "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
                    "--initial-cluster", f"test=http://127.0.0.1:{peer_port}",
                    "--unsafe-no-fsync", "--log-level", "warn")
        self._wait("etcd", lambda: b"true" in urllib.request.urlopen(
            f"http://127.0.0.1:{etcd_port}/health", timeout=2).read(), 60)
        self._start("kube-apiserver", "--etcd-servers", f"http://127.0.0.1:{etcd_port}",
                    "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
                    "--secure-port", str(self.api_port),
                    "--tls-cert-file", str(pki / "apiserver.crt"),
                    "--tls-private-key-file", str(pki / "apiserver.key"),
                    "--client-ca-file", str(pki / "ca.crt"),
                    "--service-account-issuer", self.server,
                    "--service-account-key-file", str(pki / "sa.pub"),
                    "--service-account-signing-key-file", str(pki / "sa.key"),
                    "--service-cluster-ip-range", "10.0.0.0/24",
                    "--authorization-mode", "Node,RBAC", "--cert-dir", str(self.state / "certs"),
                    "--profiling=false")
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        self._wait("kube-apiserver", lambda: urllib.request.urlopen(
            f"{self.server}/readyz", context=context, timeout=2).read() == b"ok", 120)
        manager = self.kubeconfig("controller-manager")
        self._start("kube-controller-manager", "--kubeconfig", str(manager),
                    "--authentication-kubeconfig", str(manager),
                    "--authorization-kubeconfig", str(manager),
                    "--bind-address", "127.0.0.1", "--secure-port", "0",
                    "--service-account-private-key-file", str(pki / "sa.key"),
                    "--root-ca-file", str(pki / "ca.crt"), "--use-service-account-credentials=true",
                    "--leader-elect=false",
                    "--controllers", "*,-service-ca-certificate-publisher-controller,-nodelifecycle")
        self._wait("kube-controller-manager", lambda: "default" in self.kubectl(
            "-n", "default", "get", "serviceaccount", "default", "-o", "name", check=False), 90)
        return self

    def stop(self) -> None:
        """Stop what ``start`` started, by PID, controller manager first."""
        for name in ("kube-controller-manager", "kube-apiserver", "etcd"):
            process = self.processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)

    # -- objects tests need -------------------------------------------------------------
    def add_node(self, name: str, cpu: str = "4", memory: str = "8Gi", *, ready: bool = True,
                 taints: list[dict] | None = None, unschedulable: bool = False,
                 gpus: int = 0, gpu_memory_mib: int | None = None) -> None:
        """Register a Node object (nothing backs it) with the given allocatable and condition."""
        import json

        allocatable = {"cpu": cpu, "memory": memory, "pods": "110"}
        if gpus:
            allocatable["nvidia.com/gpu"] = str(gpus)
        labels = {"kubernetes.io/hostname": name}
        if gpu_memory_mib:
            labels["nvidia.com/gpu.memory"] = str(gpu_memory_mib)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
                "spec": {"unschedulable": unschedulable, "taints": taints or []}}
        self.kubectl("delete", "node", name, "--ignore-not-found", "--wait=true")
        self.kubectl("create", "-f", "-", input=json.dumps(node))
        status = {"status": {"capacity": allocatable, "allocatable": allocatable, "conditions": [
            {"type": "Ready", "status": "True" if ready else "False",
             "reason": "Test", "lastHeartbeatTime": now, "lastTransitionTime": now}]}}
        self.kubectl("patch", "node", name, "--subresource=status", "--type=merge",
                     "-p", json.dumps(status))
        # The API server taints a new node not-ready until its kubelet reports; no node
        # lifecycle controller runs to lift it, so set the taints the test asked for.
        self.kubectl("patch", "node", name, "--type=merge",
                     "-p", json.dumps({"spec": {"taints": taints or None}}))

    def install_argo(self) -> None:
        for crd in sorted(ARGO_CRDS.glob("argoproj.io_*.yaml")):
            # create, not apply: server-side apply of a 2.8 MB CRD costs the server many seconds
            self.kubectl("create", "-f", str(crd))
        deadline = time.monotonic() + 60
        while True:  # `kubectl wait` fails while the CRD has no status yet
            established = self.kubectl(
                "get", "crd", "workflows.argoproj.io", "cronworkflows.argoproj.io", "-o",
                "jsonpath={range .items[*]}{.status.conditions[?(@.type=='Established')].status}"
                "{end}", check=False)
            if established == "TrueTrue" or time.monotonic() > deadline:
                break
            time.sleep(0.3)

    def remove_argo(self) -> None:
        self.kubectl("delete", "crd", "--ignore-not-found", "--wait=true",
                     "workflows.argoproj.io", "cronworkflows.argoproj.io")
        # the CRDs are gone before the server stops serving their API group (its discovery
        # lags under load): wait for that too, as clients see the cluster through it
        deadline = time.monotonic() + 60
        while self.kubectl("get", "--raw", "/apis/argoproj.io/v1alpha1", check=False):
            if time.monotonic() > deadline:
                raise AssertionError("argoproj.io/v1alpha1 still served 60 s after its CRDs went")
            time.sleep(0.5)


def control_plane_or_skip(state: Path):
    """A started control plane; skip (fail under CI=true) when envtest's binaries are missing."""
    import pytest

    assets = assets_dir()
    if assets is None:
        message = ("no Kubernetes control plane: set KUBEBUILDER_ASSETS (bash scripts/setup.sh "
                   "--test unpacks ../shared/envtest into .envtest/, or setup-envtest use 1.36)")
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return ControlPlane(assets, state).start()
