"""Terminal output shared by every command: one rich console for results, one for messages.

Results (tables, JSON, requirement lists) go to stdout so they can be piped; progress,
warnings and errors go to stderr.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table


class _LazyConsole:
    """A rich Console made on first use. rich takes tens of milliseconds to import, and a
    command whose messages go to a pipe or a log (CI) may never need it."""

    def __init__(self, **options) -> None:
        self._options = options
        self._console: "Console | None" = None

    @property
    def real(self) -> "Console":
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str):
        return getattr(self.real, name)


out = _LazyConsole(soft_wrap=True)
err = _LazyConsole(stderr=True, soft_wrap=True)


def _plain(stream) -> bool:
    """Plain text for a stream that is not a terminal (what rich would write there too)."""
    isatty = getattr(stream, "isatty", None)
    return not (isatty and isatty())


def message(label: str, style: str, text: str) -> None:
    """One ``label: text`` line on stderr, the label styled on a terminal; ``text`` is shown
    as it is (never read as markup)."""
    if _plain(sys.stderr):
        sys.stderr.write(f"{label}: {text}\n" if label else f"{text}\n")
        sys.stderr.flush()
        return
    from rich.markup import escape

    prefix = f"[{style}]{label}:[/{style}] " if label else ""
    err.print(prefix + escape(text), highlight=False)


def warn(text: str) -> None:
    """Print a one-line warning on stderr."""
    message("warning", "yellow", text)


def info(text: str) -> None:
    """Print a one-line status message on stderr."""
    message("", "", text)


RICH_JSON_LIMIT = 256 * 1024  # bigger documents go out plain on a terminal too (rich is slow)


def json_result(data: object, sort_keys: bool = False) -> None:
    """A command's JSON result on stdout: one line of plain JSON to a pipe or file (what a
    script reads, written by json's C encoder: 10,000 run records in a fraction of a second,
    where rich's highlighter took a minute), indented and coloured on a terminal, where a
    person reads it (plain there too past RICH_JSON_LIMIT)."""
    import json

    if _plain(sys.stdout):
        # Results are trees of plain data: no cycle to look for (a tenth of a large listing).
        sys.stdout.write(json.dumps(data, sort_keys=sort_keys, allow_nan=True,
                                    check_circular=False) + "\n")
        sys.stdout.flush()
        return
    text = json.dumps(data, sort_keys=sort_keys, indent=2, allow_nan=True)
    if len(text) > RICH_JSON_LIMIT:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        return
    out.print_json(text)


def json_text_result(text: str) -> None:
    """A command's JSON result already encoded (``json.dumps`` defaults): written as it is to
    a pipe or file, shown as ``json_result`` shows it on a terminal."""
    if _plain(sys.stdout):
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        return
    import json

    json_result(json.loads(text))


def result(text: str) -> None:
    """Print one line of a command's result on stdout, as it is (paths, references)."""
    if _plain(sys.stdout):
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        return
    out.print(text, highlight=False, markup=False)


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
        console=err.real,
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
    process that may fork later (the import) must not start threads. To a stream that is not
    a terminal nothing is drawn, and rich is not even imported."""
    if _plain(sys.stderr):
        yield lambda count: None
        return
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


def titled_table(title: str, columns: Iterable[str], rows: Iterable[Iterable[object]] = ()
                 ) -> "Table":
    """A left-titled table whose cells wrap instead of being cut, the shape every report uses."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def columns(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """A small borderless table on stdout: rich's on a terminal; to a pipe the same text
    written plainly (each cell padded by one space, as rich pads it), without loading rich."""
    if not _plain(sys.stdout):
        from rich.table import Table

        table = Table(*header, box=None, show_header=True)
        for row in rows:
            table.add_row(*row)
        out.print(table)
        return
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    for row in (header, *rows):
        sys.stdout.write("".join(f" {cell.ljust(width)} " for cell, width in zip(row, widths))
                         + "\n")
    sys.stdout.flush()


def decimal_size(size: int) -> str:
    """``812 B``, ``19.1 kB``, ``1,024.0 MB``: decimal units, as registries and package indexes
    show them."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:,.1f} MB"
