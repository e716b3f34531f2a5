"""A virtual environment made exactly from a hashed ``requirements.txt``:
``uv venv`` then ``uv pip sync --require-hashes`` (every file checked against the lock)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator, Mapping
from urllib.parse import unquote

from samepack import progress
from samepack.envcreate.index_credentials import supplied_variables, uv_index_flags
from samepack.errors import LockError, RemoteError
from samepack.lock.credentials import masked
from samepack.lock.index_lines import without_option_lines
from samepack.lock.indexes import IndexOptions
from samepack.lock.terminal_run import can_run_on_terminal, run_on_terminal
from samepack.lock.tool import failure_error, summarise_failure, uv_binary


@lru_cache(maxsize=None)
def find_python(version: str) -> str | None:
    """An installed interpreter for ``version`` (uv never downloads one here). Asked of uv
    once per process: the hardware check and the build ask the same question."""
    done = subprocess.run([uv_binary(), "python", "find", version, "--no-python-downloads",
                           "--no-config"], capture_output=True, text=True)
    return done.stdout.strip() or None if done.returncode == 0 else None


def running_python_is(version: str) -> bool:
    """Whether this interpreter is a Python ``version`` ("3.11", "3.11.7"): it is then an
    installed interpreter for it, and uv need not be asked whether one exists."""
    try:
        wanted = tuple(int(part) for part in version.split("."))
    except ValueError:
        return False
    return 0 < len(wanted) <= 3 and tuple(sys.version_info[:len(wanted)]) == wanted


def venv_python(prefix: Path) -> Path:
    return prefix / ("Scripts/python.exe" if (prefix / "Scripts").is_dir() else "bin/python")


def make_venv(prefix: Path, python: str) -> Path:
    """Create (or reuse) the venv at ``prefix`` with the given interpreter."""
    progress.step(f"making the virtual environment at {prefix} with uv venv")
    _uv(["venv", str(prefix), "--python", python, "--no-python-downloads", "--allow-existing"],
        "uv venv")
    return venv_python(prefix)


def sync_requirements(python: Path, requirements: Path, index: IndexOptions,
                      exact: bool = True, base: Path | None = None,
                      no_deps: bool = False, supplied: Mapping[str, str] | None = None) -> None:
    """Install exactly what ``requirements`` pins (``exact``: remove everything else;
    ``no_deps``: only those, their dependencies being installed by other means); relative
    find-links are taken from ``base``; ``supplied`` holds the values of the lock's ``${VAR}``
    credentials this environment lacks (see :func:`lock_credentials`), given to uv's
    environment only."""
    verb = ["pip", "sync"] if exact else ["pip", "install", "-r"]
    what = "uv pip sync" if exact else "uv pip install"
    progress.step(f"installing the {_locked_count(requirements)} packages {requirements.name} "
                  f"locks with {what}")
    flags, flag_variables = uv_index_flags(index, base, supplied or {})
    with _pins_only(requirements, index.no_index) as pins:
        _uv([*verb, str(pins), "--require-hashes", *(["--no-deps"] if no_deps else []),
             "--python", str(python), *flags], what,
            show=True, environment={**(supplied or {}), **flag_variables},
            secrets=tuple((supplied or {}).values()))


def lock_credentials(project_dir: Path, requirements: Path, index: IndexOptions
                     ) -> dict[str, str]:
    """The values of the ``${VAR}`` credentials that installing ``requirements`` with
    ``index`` needs and this environment lacks, found before uv is called (an error names a
    missing one); see :mod:`samepack.envcreate.index_credentials`."""
    try:
        text = requirements.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}  # uv reads (and reports) the file itself
    given = (without_option_lines(text) or text) if index.no_index else text
    name = (requirements.relative_to(project_dir).as_posix()
            if requirements.is_relative_to(project_dir) else requirements.name)
    return supplied_variables(project_dir, name, given, index)


@contextmanager
def _pins_only(requirements: Path, offline: bool) -> Iterator[Path]:
    """``requirements`` as uv is given it. With ``--no-index`` (``offline``) the command line
    names every place to look, so the index lines the lock carries for plain pip and uv are
    left out (uv would still fetch a find-links page a lock names): a copy without them, beside
    no user file. Otherwise the lock as it is, its lines searched with the command line's."""
    if not offline:
        yield requirements
        return
    try:
        stripped = without_option_lines(requirements.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        stripped = None  # uv reads (and reports) the file itself
    if stripped is None:
        yield requirements
        return
    with tempfile.TemporaryDirectory(prefix="samepack-pins-") as scratch:
        copy = Path(scratch) / requirements.name
        copy.write_text(stripped, encoding="utf-8")
        yield copy


def _locked_count(requirements: Path) -> int:
    """How many packages a hashed requirements file pins (one ``name==version`` line each)."""
    try:
        text = requirements.read_text(encoding="utf-8")
    except OSError:
        return 0
    return sum(1 for line in text.splitlines() if "==" in line and not line[:1].isspace()
               and not line.lstrip().startswith(("#", "-")))


def _uv(args: list[str], what: str, show: bool = False,
        environment: Mapping[str, str] | None = None, secrets: tuple[str, ...] = ()) -> None:
    """Run uv. With ``show``, on a terminal (unless the command asked for no progress), uv
    draws its own (downloads, installs) there, also for callers that show no steps of their
    own (a run making its cached environment); its messages are kept either way, for a
    failure's error. ``environment`` is added to its environment; ``secrets`` are never
    shown in an error."""
    shown = show and can_run_on_terminal() and not progress.quiet()
    command = [uv_binary(), *args, "--no-config", *([] if shown else ["--quiet"])]
    env = {**os.environ, **environment} if environment else None
    if shown:
        with progress.handover():
            done = run_on_terminal(command, env=env)
    else:
        done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        text = _without_values(done.stderr or done.stdout, secrets)
        failure = failure_error(what, text)
        if isinstance(failure, RemoteError):
            raise failure
        raise LockError(f"{what} failed: {summarise_failure(masked(text))}",
                        hint="check the lock files, or rerun `samepack package-env` and try again")


def _without_values(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value shown as ``****`` (a tool may print one outside a URL)."""
    for secret in secrets:
        text = text.replace(secret, "****").replace(unquote(secret), "****")
    return text
