"""Pausing Python's cyclic garbage collector while a bundle is written or read.

Exporting or importing a large tree allocates tens of thousands of small objects (members,
paths, digests) that form no cycles; each allocation burst triggers collections that walk all
of them again, measurably (about 0.1 s of a 20,000-file export). Reference counting still frees
everything.

In the command-line process, which ends with its command, the objects still alive when the
block succeeds are frozen (``gc.freeze``) before the collector is switched back on: otherwise
its first run walks every object made during the pause, another 0.1 s at the end of a large
export. Frozen objects are still freed by reference counting, only never searched for cycles,
which a long-lived process using samepack as a library would not want: there, and after a
failure, the collector is simply switched back on.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


# Set by the command-line entry point (its process ends right after the command).
freeze_after = False


@contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    succeeded = False
    try:
        yield
        succeeded = True
    finally:
        if was_enabled:
            if succeeded and freeze_after:
                gc.freeze()
            gc.enable()
