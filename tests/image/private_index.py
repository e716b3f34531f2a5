"""A project whose only package lives on a password-protected local index, locked by
``samepack package-env``: what the real-build tests of index credentials start from."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from tests.lock.index_server import serve_indexes
from tests.lock.lockbuilders import FakeDist, build_wheel

HERMETIC_PIP = {"PIP_CONFIG_FILE": "/dev/null", "PIP_FIND_LINKS": "", "PIP_EXTRA_INDEX_URL": ""}


@dataclass(frozen=True)
class PrivateProject:
    root: Path
    port: str
    variable: str  # the lock's ${VAR} for the index's password
    lock: str  # the lock's text


@contextmanager
def locked_private_project(samepack: Callable, tmp_path: Path, secret: str
                           ) -> Iterator[PrivateProject]:
    """``special`` only on ``/private/`` (user alice, password ``secret``), the project's
    requirements.txt naming it with the literal password, locked; the index serves meanwhile."""
    wheels = tmp_path / "private-wheels"
    wheels.mkdir()
    special = build_wheel(FakeDist("special", "3.0"), wheels)
    root = tmp_path / "private"
    root.mkdir()
    (root / "train.py").write_text("import special\n")
    with serve_indexes({"private": [special]}, {"private": ("alice", secret)}) as server:
        port = server.rsplit(":", 1)[1]
        variable = f"SAMEPACK_INDEX_127_0_0_1_{port}_PASSWORD"
        (root / "requirements.txt").write_text(
            f"--index-url http://alice:{secret}@127.0.0.1:{port}/private/\nspecial\n")
        locked = samepack("package-env", root, env=HERMETIC_PIP)
        assert locked.exit_code == 0, locked.stderr
        lock = (root / "requirements.lock").read_text()
        assert f"${{{variable}}}" in lock and secret not in lock
        yield PrivateProject(root, port, variable, lock)
