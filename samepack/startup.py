"""The command-line process's start-up: the cyclic garbage collector is off while modules load.

Imports make tens of thousands of objects and no garbage cycles; the collections they trigger
walk all of them again and cost a short command (a run, a listing) several milliseconds. What
start-up made lives as long as the process, so when loading is over it is frozen out of the
collector's reach (``gc.freeze``) and the collector is switched back on. A command that loads
more once it has started (``run`` its runner, the program loader, the store) loads it inside
:func:`loading`, paused and frozen alike. Only the entry point (:func:`main`, the console script
and ``python -m samepack``) pauses the collector, before click and the command line load: a
program using samepack as a library keeps its own collector settings.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

_paused = False
_entry_point = False  # the collector was paused by the command line's entry point


def pause_collector() -> None:
    """Switch the collector off until :func:`end_of_startup` (if it was on)."""
    global _paused, _entry_point
    if gc.isenabled():
        gc.disable()
        _paused = _entry_point = True


def end_of_startup() -> None:
    """The modules a command needs are loaded: freeze them and switch the collector back on
    (once; nothing when the collector was not paused here)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


@contextmanager
def loading() -> Iterator[None]:
    """Modules a started command imports on first use: loaded with the collector paused, then
    frozen like start-up's own (in the command-line process only)."""
    if not (_entry_point and gc.isenabled()):
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def main() -> None:
    """The console script's entry point: the collector is paused before the command line's
    own modules (click, samepack.cli) load, then the command runs."""
    pause_collector()
    from samepack.cli import main as run_command_line

    run_command_line()
