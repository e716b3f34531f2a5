"""``samepack init``: write a samepack.yaml from what the project already says."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from samepack.console import err, info, out, titled_table, warn
from samepack.errors import ConflictError, InputError, NotFoundError
from samepack.init.entrypoints import EntryCandidate, discover, plausible, select
from samepack.init.synth import Inference, infer_program
from samepack.init.writer import render, write_program
from samepack.scan.model import Scan


def _candidate_list(candidates: list[EntryCandidate]) -> str:
    return ", ".join(c.label if c.kind != "mlproject" else c.name for c in candidates)


def _ask(candidates: list[EntryCandidate]) -> EntryCandidate:
    err.print("Several entry points are plausible:", highlight=False)
    for number, candidate in enumerate(candidates, start=1):
        err.print(f"  {number}. {candidate.label}  ({candidate.reason})", highlight=False)
    choice = click.prompt("Which one", type=click.IntRange(1, len(candidates)), default=1,
                          err=True)
    return candidates[choice - 1]


def choose_entry(root: Path, wanted: str | None, interactive: bool) -> EntryCandidate:
    """The entry ``--entry`` names, the only plausible one, or the user's pick."""
    candidates = discover(root)
    if wanted:
        chosen = select(candidates, wanted, root)
        if chosen is None:
            raise NotFoundError(f"--entry {wanted}: no such entry point in {root}",
                                f"choose one of: {_candidate_list(candidates) or 'none found'}")
        return chosen
    if not candidates:
        raise InputError(f"{root}: no entry point found (no script with a __main__ block, "
                         "notebook or MLproject)", "pass --entry SCRIPT.py, or add "
                                                   "`if __name__ == \"__main__\":` to it")
    best = plausible(candidates)
    if len(best) == 1:
        return best[0]
    if interactive:
        return _ask(best)
    raise InputError(f"{root}: several entry points are plausible: {_candidate_list(best)}",
                     "pass --entry NAME to choose one")


def _scan(root: Path) -> Scan | None:
    try:
        from samepack.scan import scan_project
    except ImportError:
        warn("the scanner is not available: resources and Python are not inferred")
        return None
    return scan_project(root)


def _report(inference: Inference) -> None:
    out.print(titled_table("samepack init: what was inferred", ("field", "value", "why"),
                           ((r.what, r.value, r.why) for r in inference.reasons)))
    for message in inference.warnings:
        warn(message)


@click.command("init")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("-e", "--entry", "entry", metavar="NAME",
              help="Entry point to use (script, notebook or MLproject entry point).")
@click.option("--name", help="Program name (default: the directory's name).")
@click.option("--version", "version", help="Program version (default: 0.1.0).")
@click.option("--force", is_flag=True, help="Replace an existing samepack.yaml.")
@click.option("--dry-run", is_flag=True, help="Print the program on stdout; write nothing.")
def init(path: Path, entry: str | None, name: str | None, version: str | None, force: bool,
         dry_run: bool) -> None:
    """Write PATH/samepack.yaml from the project's entry point, parameters, data and lock.

    Parameters are read from the code (argparse, click, typer, sys.argv, a notebook's
    `parameters` cell, MLproject) without running it.
    """
    root = path.resolve()
    if not root.is_dir():
        raise InputError(f"{path}: not a directory", "give the project directory")
    target = root / "samepack.yaml"
    if target.exists() and not force and not dry_run:
        raise ConflictError(f"{target}: already exists; not overwritten",
                            "pass --force to replace it, or edit it by hand")
    chosen = choose_entry(root, entry, interactive=sys.stdin.isatty())
    inference = infer_program(root, chosen, _scan(root), f"{sys.version_info[0]}."
                              f"{sys.version_info[1]}", name=name, version=version)
    if dry_run:
        click.echo(render(inference.program), nl=False)
        return
    _report(inference)
    write_program(target, inference.program, force=force)
    info(f"wrote {target}")
