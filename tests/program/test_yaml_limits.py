"""The program reader's bounds, through ``samepack create program`` in a real subprocess under
a 1 GiB address-space limit: an alias bomb, deep nesting, a huge integer and a huge file are
each one ``FILE:LINE:`` error within seconds, never a traceback or a MemoryError."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

HEAD = ("apiVersion: samepack.dev/v1\nkind: Program\nmetadata: {name: bounded, version: '1'}\n"
        "steps:\n  main: {run: \"python main.py\"}\n")


def _bomb() -> str:
    lines = ["x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x-a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
    return HEAD + "\n".join(lines) + "\n"


CASES = {
    "alias-bomb": (_bomb, "samepack.yaml:6: the document expands to more than"),
    "deep-nesting": (lambda: HEAD + "x-d: " + "[" * 3000 + "]" * 3000 + "\n",
                     "is nested more than 64 levels deep"),
    "deep-mapping": (lambda: HEAD + "x-m:\n" + "".join(" " * i + "k:\n" for i in range(1, 300)),
                     "is nested more than 64 levels deep"),
    "huge-integer": (lambda: HEAD + "x-n: " + "7" * 5000 + "\n", "cannot be read"),
    "many-aliases": (lambda: HEAD + "x-v: &v 1\nx-l: [" + ", ".join(["*v"] * 1500) + "]\n",
                     "more than 1000 aliases"),
    "huge-file": (lambda: HEAD + "#" * (50 * 1024 * 1024) + "\n", "too large for a program file"),
}


def _limited() -> None:
    limit = 1024 ** 3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_program_file_is_one_line(name: str, tmp_path: Path, samepack_home: Path) -> None:
    make, expected = CASES[name]
    program = tmp_path / "samepack.yaml"
    program.write_text(make())
    env = {**os.environ, "SAMEPACK_HOME": str(samepack_home), "MALLOC_ARENA_MAX": "2"}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "samepack", "create", "program", "-f",
                           str(program)], capture_output=True, text=True, env=env, timeout=60,
                          preexec_fn=_limited)
    assert time.monotonic() - started < 15
    assert done.returncode == 3, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], done.stderr
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    assert not (samepack_home / "programs").exists() or not any(
        (samepack_home / "programs").iterdir())


def test_a_bundled_conda_lock_is_read_with_the_same_bounds(tmp_path: Path) -> None:
    """``import --env`` reads the bundle's conda-lock.yml: an alias bomb there is the same
    one-line error, not a process that grows without end."""
    from samepack.envcreate.conda_env import locked_packages
    from samepack.errors import InputError

    lock = tmp_path / "conda-lock.yml"
    lock.write_text(_bomb().replace(HEAD, "version: 1\npackage: []\n"))
    with pytest.raises(InputError) as raised:
        locked_packages(lock, "linux-64")
    assert raised.value.message.startswith("conda-lock.yml:")
    assert "expands to more than" in raised.value.message
