"""A throwaway CNCF distribution registry (Debian's ``docker-registry``) on 127.0.0.1, for the
test suite and the benchmark: storage in a given directory, optional htpasswd auth, stopped by
PID. It never listens beyond loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from samepack.errors import RemoteError, ToolMissingError


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def config_text(storage: Path, port: int, htpasswd: Path | None, auth: str = "") -> str:
    lines = [
        "version: 0.1",
        "log: {level: error}",
        "storage:",
        f"  filesystem: {{rootdirectory: {storage}}}",
        "  delete: {enabled: true}",
        "http:",
        f"  addr: 127.0.0.1:{port}",
        # A fixed secret keeps upload sessions valid across a restart, so uploads can resume.
        "  secret: samepack-local-registry",
    ]
    if htpasswd:
        lines += ["auth:", f"  htpasswd: {{realm: samepack, path: {htpasswd}}}"]
    elif auth:
        lines += ["auth:", f"  {auth}"]
    return "\n".join(lines) + "\n"


@dataclass
class LocalRegistry:
    """``with LocalRegistry(workdir) as registry: registry.host`` -> ``127.0.0.1:PORT``.

    ``user``/``password`` turn on htpasswd auth; ``auth`` is any other one-line ``auth:`` entry
    of the registry's config (e.g. ``token: {realm: ..., service: ..., ...}``)."""

    workdir: Path
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    auth: str = ""
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def storage(self) -> Path:
        return self.workdir / "storage"

    def start(self) -> "LocalRegistry":
        program = shutil.which("docker-registry")
        if not program:
            raise ToolMissingError("docker-registry is not installed",
                                   "apt-get install docker-registry (scripts/setup.sh --test)")
        self.storage.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "config.yml"
        config.write_text(config_text(self.storage, self.port, self._htpasswd(), self.auth))
        log = open(self.workdir / "registry.log", "ab")
        self.process = subprocess.Popen([program, "serve", str(config)], stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self._wait_ready()
        return self

    def _htpasswd(self) -> Path | None:
        if not self.user:
            return None
        path = self.workdir / "htpasswd"
        if not path.exists():
            hashed = subprocess.run(["htpasswd", "-Bbn", self.user, self.password or ""],
                                    check=True, capture_output=True, text=True).stdout
            path.write_text(hashed)
        return path

    def _wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RemoteError(f"docker-registry exited early; see {self.workdir}/registry.log")
            try:
                if requests.get(f"http://{self.host}/v2/", timeout=1).status_code in (200, 401):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise RemoteError(f"docker-registry on {self.host} did not answer in {timeout:.0f} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> "LocalRegistry":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
