"""Running the external lock tools: one place for subprocess calls and their failures."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from samepack.errors import LockError, RemoteError, ToolMissingError
from samepack.lock.credentials import masked


def uv_binary() -> str:
    """The uv executable that ships with the ``uv`` Python package."""
    try:
        import uv
    except ImportError as missing:
        raise ToolMissingError("uv is not installed", hint="pip install uv") from missing
    return uv.find_uv_bin()


def dist_version(name: str) -> str:
    """The installed version of distribution ``name``, or "unknown". Read from the name of its
    ``NAME-VERSION.dist-info`` folder, the first on ``sys.path`` as importlib.metadata finds it
    (whose import and METADATA parsing cost a lock tens of milliseconds); importlib.metadata
    answers where no such folder is found (eggs, zips, other finders)."""
    wanted = re.sub(r"[-_.]+", "_", name).lower()
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in names:
            if not folder.endswith(".dist-info") or "-" not in folder:
                continue
            project, _, version = folder[:-len(".dist-info")].partition("-")
            if re.sub(r"[-_.]+", "_", project).lower() == wanted and version:
                return version
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def run_tool(args: list[str], cwd: Path, what: str, env: dict[str, str] | None = None,
             timeout: float = 1800, on_terminal: bool = False) -> subprocess.CompletedProcess:
    """Run a tool; a non-zero exit becomes a one-line :class:`LockError`. ``on_terminal``: the
    tool draws its own progress on the user's terminal meanwhile (see :func:`shows_progress`)
    and its messages are kept all the same."""
    try:
        if on_terminal:
            from samepack import progress
            from samepack.lock.terminal_run import run_on_terminal

            with progress.handover():
                done = run_on_terminal(args, cwd, env, timeout)
        else:
            done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env,
                                  timeout=timeout)
    except FileNotFoundError as missing:
        raise ToolMissingError(f"{args[0]} is not installed") from missing
    except subprocess.TimeoutExpired as slow:
        raise LockError(f"{what} took longer than {timeout:.0f} s") from slow
    if done.returncode != 0:
        raise failure_error(what, done.stderr or done.stdout)
    return done


def shows_progress() -> bool:
    """Whether a tool run now may draw its progress on the terminal: progress is being shown
    (a terminal, no --json) and the terminal can be lent to a child."""
    from samepack import progress

    if not progress.active():
        return False
    from samepack.lock.terminal_run import can_run_on_terminal

    return can_run_on_terminal()


_FETCH = re.compile(r"Failed to fetch:?\s*`?(?P<url>\w+://[^\s`]+)")
_FIND_LINKS = re.compile(r"Failed to read `--find-links` URL:?\s*`?(?P<url>\w+://[^\s`]+)")
_NETWORK = ("dns error", "client error (connect)", "connection refused", "timed out",
            "failed to lookup address", "network is unreachable")


def failure_error(what: str, text: str) -> LockError | RemoteError:
    """The error for a failed tool run: an index that cannot be reached is a network error
    naming it (with the offline route), anything else a lock error with the tool's whole
    explanation."""
    text = masked(text)  # a tool may repeat an index URL with its credentials
    fetch = _FETCH.search(text)
    lowered = text.lower()
    if fetch and any(word in lowered for word in _NETWORK):
        page = _FIND_LINKS.search(text)  # a find-links page is named as given, not trimmed
        where = (f"the find-links page {page.group('url')}" if page
                 else f"the package index {_index_of(fetch.group('url'))}")
        cause = next(word for word in _NETWORK if word in lowered)
        return RemoteError(f"{what}: {where} could not be reached ({cause})",
                           hint="check the network, or download the wheels where the index is "
                                "reachable and lock with --find-links DIR --no-index")
    return LockError(f"{what} failed: {summarise_failure(text)}", hint=failure_hint(text))


def _index_of(url: str) -> str:
    """``https://download.pytorch.org/whl/cu121/torch/`` -> ``https://download.pytorch.org/whl/cu121``."""
    trimmed = url.rstrip("/")
    head, _, last = trimmed.rpartition("/")
    return head if last and "://" in head and head.count("/") > 2 else trimmed


_DECORATION = re.compile(r"[×╰─▶│├┬╭╮╯]+")


def summarise_failure(text: str, limit: int | None = None) -> str:
    """A resolver's multi-line report squeezed into one readable line, whole unless ``limit``
    is given (the end of the report is where resolvers explain the fix)."""
    lines = [_DECORATION.sub(" ", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith(("hint:", "Traceback"))]
    joined = " ".join(" ".join(lines).split())
    joined = joined.replace("error: ", "").replace("ERROR: ", "")
    return joined if limit is None or len(joined) <= limit else joined[: limit - 1] + "…"


def failure_hint(text: str) -> str:
    lowered = text.lower()
    if "not found in the provided package locations" in lowered:
        return ("the --find-links directories lack the package named above: add its wheel "
                "there, or drop --no-index so the index is searched too")
    if "no solution" in lowered or "conflict" in lowered or "could not find a version" in lowered:
        return "loosen or fix the conflicting requirement named above, then run again"
    if "not found in the package registry" in lowered or "no matching distribution" in lowered:
        return "check the package name and version, or the --find-links/--index-url you gave"
    return "run the command with --debug, or check the requirement named above"
