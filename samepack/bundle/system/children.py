"""Child processes of an export or import: forked, killed with their parent (even by SIGKILL),
and reporting errors back as plain values the parent raises again."""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time
import weakref
from typing import Callable

from samepack import errors
from samepack.errors import SamepackError


def write_all(descriptor: int, data) -> None:
    """Write every byte of ``data`` (a short write is allowed, then continued)."""
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view):]


def _gather_limit() -> int:
    """How many pieces one ``writev`` may take here (0: no ``writev``)."""
    if not hasattr(os, "writev"):
        return 0
    try:
        limit = os.sysconf("SC_IOV_MAX")
    except (ValueError, OSError, AttributeError):
        limit = 0
    return min(limit, 1024) if limit > 0 else 16


_GATHER = _gather_limit()


def write_pieces(descriptor: int, pieces: list) -> None:
    """Write ``pieces`` in order as one stream, gathered by the kernel (``writev``) from where
    they lie, so they are not first joined into one more copy."""
    if not _GATHER:
        write_all(descriptor, b"".join(pieces))
        return
    at = 0
    while at < len(pieces):
        written = os.writev(descriptor, pieces[at:at + _GATHER])
        while at < len(pieces) and written >= len(pieces[at]):
            written -= len(pieces[at])
            at += 1
        if written:  # a short write ended inside this piece: the rest of it goes next
            pieces = pieces[:at] + [memoryview(pieces[at])[written:]] + pieces[at + 1:]


def read_exact(source: io.FileIO, buffer: bytearray) -> bool:
    """Fill ``buffer`` from ``source``; False if the stream ended first."""
    view, done = memoryview(buffer), 0
    while done < len(view):
        count = source.readinto(view[done:])
        if not count:
            return False
        done += count
    return True


def die_with_parent(parent: int) -> None:
    """In a child: exit when the parent dies, even by SIGKILL (the kernel's parent-death
    signal on Linux, a watcher thread elsewhere); exit now if it already has."""
    try:
        import ctypes

        armed = ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0) == 0  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        armed = False
    if os.getppid() != parent:
        os._exit(1)
    if armed:
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


# Forking without exec is safe on Linux; on macOS the system frameworks some modules load
# (networking, certificates) may crash a forked child, so the work stays in one process there.
FORK_SAFE = sys.platform.startswith("linux") and hasattr(os, "fork")


# Threads that hold nothing a forked child uses (the read-ahead of a bundle: its file, queue
# and hashes stay with the parent; children only create files and talk through their pipes).
_HARMLESS_TO_FORK: "weakref.WeakSet[threading.Thread]" = weakref.WeakSet()


def harmless_to_fork(thread: threading.Thread) -> threading.Thread:
    """Declare that ``thread`` holds no lock or state a forked child of ours uses."""
    _HARMLESS_TO_FORK.add(thread)
    return thread


def can_fork() -> bool:
    """Forking is safe only without other threads (one may hold a lock the child needs),
    except those declared harmless."""
    if not FORK_SAFE:
        return False
    current = threading.current_thread()
    return all(thread is current or (thread in _HARMLESS_TO_FORK and thread.is_alive())
               for thread in threading.enumerate())


def fork_child(body: Callable[[], int]) -> int:
    """Run ``body`` in a child process, which exits with the status it returns, ignores
    Ctrl-C (this process handles it) and dies with this process; the child's pid."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            die_with_parent(parent)
            status = body()
        finally:
            os._exit(status)
    return pid


def stop_child(pid: int) -> None:
    """Kill the child ``pid`` (finished or not) and reap it, so no zombie is left."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


def describe_error(error: BaseException) -> tuple:
    """An error of the child as plain values; ``revive_error`` makes it an exception again."""
    if isinstance(error, SamepackError):
        return ("samepack", type(error).__name__, error.message, error.hint)
    if isinstance(error, OSError):
        return ("os", error.errno, error.strerror or str(error), error.filename)
    import traceback

    traceback.print_exc()  # a bug: its traceback is shown where it happened
    return ("other", f"{type(error).__name__}: {error}")


def revive_error(outcome: tuple) -> BaseException:
    if outcome[0] == "samepack":
        kind = getattr(errors, outcome[1], None)
        if not (isinstance(kind, type) and issubclass(kind, SamepackError)):
            kind = SamepackError
        return kind(outcome[2], outcome[3])
    if outcome[0] == "os":
        number, text, filename = outcome[1:]
        return OSError(number, text, filename) if number else OSError(text)
    return RuntimeError(f"a child process failed: {outcome[1]}")
