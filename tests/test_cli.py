"""The command-line shell: help, version, and the one place that turns errors into messages."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from samepack import __version__
from samepack.cli import LAZY_COMMANDS, SamepackGroup, cli
from samepack.errors import InputError, SamepackError


def test_version_and_help(samepack) -> None:
    result = samepack("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout
    result = samepack("--help")
    assert result.exit_code == 0
    for name in LAZY_COMMANDS:
        assert name in result.stdout


def test_every_lazy_command_imports() -> None:
    ctx = click.Context(cli)
    for name in LAZY_COMMANDS:
        assert isinstance(cli.get_command(ctx, name), click.Command), name


def _group_raising(error: BaseException) -> click.Group:
    @click.group(cls=SamepackGroup)
    @click.option("--debug", is_flag=True)
    def group(debug: bool) -> None:
        pass

    @group.command()
    def boom() -> None:
        raise error

    return group


@pytest.mark.parametrize(
    "error, code",
    [(InputError("samepack.yaml:3: steps: must be a mapping", hint="see docs"), 3),
     (SamepackError("generic"), 1),
     (FileNotFoundError(2, "No such file or directory", "/nope"), 1)],
)
def test_domain_errors_become_one_line(error: BaseException, code: int) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(_group_raising(error), ["boom"])
    assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    if isinstance(error, SamepackError) and error.hint:
        assert lines[1] == "hint: see docs"


def test_debug_shows_the_traceback() -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(_group_raising(InputError("bad")), ["--debug", "boom"])
    assert isinstance(result.exception, InputError)


def test_console_script_runs_as_a_process() -> None:
    completed = subprocess.run([sys.executable, "-m", "samepack", "--version"],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0
    assert completed.stdout.strip() == f"samepack, version {__version__}"


def test_unknown_command_is_a_usage_error(samepack) -> None:
    result = samepack("no-such-command")
    assert result.exit_code == 2
    assert "No such command" in result.stderr


def test_plain_columns_are_the_text_rich_writes_to_a_pipe():
    """Small tables go to a pipe without rich, as the very text rich would write there."""
    import io

    from rich.console import Console
    from rich.table import Table

    header = ("file", "action")
    rows = [("requirements.txt", "created"), (".samepack/env.json", "unchanged"), ("ü", "")]
    table = Table(*header, box=None, show_header=True)
    for row in rows:
        table.add_row(*row)
    buffer = io.StringIO()
    Console(file=buffer, soft_wrap=True, width=80).print(table)
    done = subprocess.run([sys.executable, "-c", "from samepack.console import columns; "
                           f"columns({header!r}, {rows!r})"], capture_output=True, text=True,
                          check=True)
    assert done.stdout == buffer.getvalue()
