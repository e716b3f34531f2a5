"""Terminal output shared by every command: one rich console for results, one for messages.

Results (tables, JSON, requirement lists) go to stdout so they can be piped; progress,
warnings and errors go to stderr.
"""

from __future__ import annotations

from contextlib import contextmanager
import time
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from rich.progress import Progress

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def warn(message: str) -> None:
    """Print a one-line warning on stderr."""
    err.print(f"[yellow]warning:[/yellow] {message}", highlight=False, markup=True)


def info(message: str) -> None:
    """Print a one-line status message on stderr."""
    err.print(message, highlight=False)


@contextmanager
def byte_progress(description: str, total: int | None,
                  auto_refresh: bool = True) -> Iterator[Progress]:
    """A progress bar for long byte-oriented work (hashing, archiving, uploads).

    Disabled automatically when stderr is not a terminal, so logs stay clean. rich.progress is
    imported here, not at start-up: most commands never show a bar.
    """
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
        auto_refresh=auto_refresh,
    )
    with progress:
        progress.add_task(description, total=total)
        yield progress


@contextmanager
def byte_counter(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """Like :func:`byte_progress`, as an ``advance(count)`` function, without a refresh
    thread: the bar is redrawn at most ten times a second from the caller's own calls. A
    process that may fork later (the import) must not start threads."""
    with byte_progress(description, total, auto_refresh=False) as progress:
        task = progress.task_ids[0]
        if progress.disable:
            yield lambda count: None
            return
        last = [0.0]

        def advance(count: int) -> None:
            progress.advance(task, count)
            now = time.monotonic()
            if now - last[0] >= 0.1:
                last[0] = now
                progress.refresh()

        yield advance


def titled_table(title: str, columns: Iterable[str], rows: Iterable[Iterable[object]] = ()) -> Table:
    """A left-titled table whose cells wrap instead of being cut, the shape every report uses."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table
