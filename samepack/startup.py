"""The command-line process's start-up: the cyclic garbage collector is off while modules load.

Imports make tens of thousands of objects and no garbage cycles; the collections they trigger
walk all of them again and cost a short command (a run, a listing) several milliseconds. What
start-up made lives as long as the process, so when loading is over it is frozen out of the
collector's reach (``gc.freeze``) and the collector is switched back on. Only the entry point
pauses it: a program using samepack as a library keeps its own collector settings.
"""

from __future__ import annotations

import gc

_paused = False


def pause_collector() -> None:
    """Switch the collector off until :func:`end_of_startup` (if it was on)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def end_of_startup() -> None:
    """The modules a command needs are loaded: freeze them and switch the collector back on
    (once; nothing when the collector was not paused here)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
