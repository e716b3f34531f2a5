"""``--json`` on a command: exactly one JSON document on stdout, the result or the error.

The option marks the click context (``ctx.meta`` is shared by the group and its commands), so
the one place that turns errors into messages (``samepack.cli.SamepackGroup``) can answer a
failing ``--json`` command with an error document instead of leaving stdout empty. Messages,
progress and warnings stay on stderr either way.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator, TypeVar

import click

from samepack.console import json_result
from samepack.errors import SamepackError

REQUESTED = "samepack.json.requested"
WRITTEN = "samepack.json.written"

F = TypeVar("F", bound=Callable)


def _mark(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.meta[REQUESTED] = True
    return value


def json_option(help_text: str = "Print the outcome as one JSON document on stdout "
                                  "(errors too; messages stay on stderr).") -> Callable[[F], F]:
    """The ``--json`` flag (parameter ``as_json``). Eager, so that a bad value of another
    option is already answered in JSON."""
    return click.option("--json", "as_json", is_flag=True, is_eager=True, callback=_mark,
                        help=help_text)


@contextlib.contextmanager
def text_to_stderr(active: bool) -> Iterator[None]:
    """While ``active``, what the work prints on stdout (a step's output, tables) goes to
    stderr, so that stdout carries the JSON document alone."""
    if not active:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


def emit(data: dict, sort_keys: bool = True) -> None:
    """Write the command's one JSON document and remember that it was written."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[WRITTEN] = True
    json_result(data, sort_keys=sort_keys)


def error_document(message: str, hint: str | None, exit_code: int, kind: str) -> dict:
    """What a failing ``--json`` command prints: ``{"ok": false, "error": {...}}``."""
    return {"ok": False, "error": {"message": message, "hint": hint, "exit_code": exit_code,
                                   "kind": kind}}


def report_json_error(ctx: click.Context, error: SamepackError | click.ClickException) -> None:
    """Answer a failed ``--json`` command on stdout, unless it already wrote its document
    (``package-env --check`` writes the differences, then fails)."""
    if not ctx.meta.get(REQUESTED) or ctx.meta.get(WRITTEN):
        return
    if isinstance(error, SamepackError):
        document = error_document(error.message, error.hint, error.exit_code,
                                  type(error).__name__)
    else:
        document = error_document(error.format_message(), None, error.exit_code,
                                  type(error).__name__)
    emit(document)
