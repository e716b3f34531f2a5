"""Progress of long work (a cold lock, making an environment) on a terminal.

One live line on stderr names the step under way, with a spinner and the time since the
command began; each step, once over, stays above it as one line with its own time
("resolving 2 requirements with uv pip compile: 1.3 s"). Library code reports through the
module functions (:func:`step`, :func:`count`), which do nothing unless a command opened a
display with :func:`shown` -- commands do so only when stderr is a terminal and no ``--json``
was asked, so logs, pipes and scripts get no progress at all. A tool that draws its own progress
(uv) gets the terminal to itself inside :func:`handover`.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class _Display:
    def __init__(self) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from samepack.console import err

        self.progress: Progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                           TimeElapsedColumn(), console=err.real, transient=True)
        self.task: TaskID = self.progress.add_task("", total=None)
        self.text = ""
        self.started = 0.0
        self.paused = False

    def step(self, text: str) -> None:
        self._finish()
        self.text, self.started = text, time.monotonic()
        self.progress.update(self.task, description=text)

    def count(self, done: int, total: int) -> None:
        self.progress.update(self.task, description=f"{self.text} ({done} of {total})")

    def _finish(self, failed: bool = False) -> None:
        """The step that ends stays on the screen, above the live line, with its time."""
        if self.text:
            seconds = time.monotonic() - self.started
            how = f"failed after {seconds:.1f} s" if failed else f"{seconds:.1f} s"
            self.progress.console.print(f"{self.text}: {how}", highlight=False, markup=False)
        self.text = ""

    def close(self, failed: bool) -> None:
        self._finish(failed)
        self.progress.stop()


_display: _Display | None = None
_quiet = False  # a command asked for no progress at all (--json)


@contextmanager
def shown(enabled: bool) -> Iterator[None]:
    """Show progress while the block runs, when ``enabled`` and stderr is a terminal; with
    ``enabled`` off, nothing may draw progress (see :func:`quiet`)."""
    global _display, _quiet
    if not enabled:
        _quiet, was = True, _quiet
        try:
            yield
        finally:
            _quiet = was
        return
    isatty = getattr(sys.stderr, "isatty", None)
    if _display is not None or not (isatty and isatty()):
        yield
        return
    _display = _Display()
    _display.progress.start()
    failed = True
    try:
        yield
        failed = False
    finally:
        display, _display = _display, None
        display.close(failed)


def quiet() -> bool:
    """Whether the command asked for no progress (--json): tools must not draw theirs."""
    return _quiet


def active() -> bool:
    """Whether progress is being shown (a tool may then be given the terminal)."""
    return _display is not None


def step(text: str) -> None:
    """A new step begins (the one before it is over)."""
    if _display is not None:
        _display.step(text)


def count(done: int, total: int) -> None:
    """How far the current step is: ``done`` of ``total`` items."""
    if _display is not None:
        _display.count(done, total)


@contextmanager
def handover() -> Iterator[None]:
    """The live line leaves the terminal to a tool that draws there itself, and comes back
    after it; the tool's last words stay above the step's own line."""
    display = _display
    if display is None or display.paused:
        yield
        return
    display.progress.stop()
    display.paused = True
    try:
        yield
    finally:
        display.paused = False
        display.progress.start()
