"""``samepack env create``: recreate a project's locked environment on this machine."""

from __future__ import annotations

from pathlib import Path

import click

from samepack.commands.index_args import from_cwd, index_options
from samepack.commands.jsonmode import emit, json_option
from samepack import progress
from samepack.console import info, result, warn
from samepack.envcreate import (CreateOptions, create_environment, machine_shortfalls,
                                program_needs)
from samepack.envfiles.envjson import read_env_record
from samepack.lock.indexes import IndexOptions


@click.group("env")
def env() -> None:
    """Work with a project's locked environment."""


@env.command("create")
@click.argument("path", type=click.Path(file_okay=False, exists=True, path_type=Path), default=".")
@click.option("--prefix", type=click.Path(file_okay=False, path_type=Path),
              help="Where to create the environment (default: PATH/.samepack/env).")
@index_options
@click.option("--ignore-hardware", is_flag=True,
              help="Go on even when this machine falls short of the recorded needs.")
@json_option("Print {prefix, python} as JSON on stdout instead of the interpreter path "
             "(errors too).")
def create(path: Path, prefix: Path | None, find_links: tuple[str, ...], no_index: bool,
           index_url: str | None, ignore_hardware: bool, as_json: bool) -> None:
    """Create the environment locked by `samepack package-env` (hashes verified)."""
    if ignore_hardware:
        root = path.resolve()
        for shortfall in machine_shortfalls(read_env_record(root), extra=program_needs(root)):
            warn(f"this machine falls short: {shortfall.message}")
    index = IndexOptions(from_cwd(find_links), no_index, index_url)
    options = CreateOptions(prefix=prefix, index=index, ignore_hardware=ignore_hardware)
    with progress.shown(not as_json):
        python = create_environment(path, options)
    info(f"environment ready: {python.parent.parent}")
    if as_json:
        emit({"ok": True, "prefix": str(python.parent.parent), "python": str(python)})
        return
    result(str(python))
