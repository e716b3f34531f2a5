"""``samepack init``: write a samepack.yaml from what the project already says."""

from __future__ import annotations

import shlex
import sys
from dataclasses import replace
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


def _ask(candidates: list[EntryCandidate], default: str) -> list[EntryCandidate]:
    err.print("Several entry points are plausible:", highlight=False)
    for number, candidate in enumerate(candidates, start=1):
        err.print(f"  {number}. {candidate.label}  ({candidate.reason})", highlight=False)
    err.print("Give one number, several in the order they run (1 3), or 'all'.", highlight=False)
    while True:
        answer = click.prompt("Which", default=default, err=True).strip().lower()
        if answer == "all":
            return list(candidates)
        words = answer.replace(",", " ").split()
        if words and all(w.isdigit() and 1 <= int(w) <= len(candidates) for w in words):
            return [candidates[int(w) - 1] for w in words]
        err.print(f"Answer with numbers from 1 to {len(candidates)}, or 'all'.", highlight=False)


def _wanted(root: Path, candidates: list[EntryCandidate], text: str) -> EntryCandidate:
    """The candidate one ``--entry`` names, with the arguments given after it."""
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise InputError(f"--entry {text!r}: {error}", "check the quoting of the entry") from None
    if not words:
        raise InputError("--entry: empty", "give a script, notebook or MLproject entry point")
    chosen = select(candidates, words[0], root)
    if chosen is None:
        raise NotFoundError(f"--entry {words[0]}: no such entry point in {root}",
                            f"choose one of: {_candidate_list(candidates) or 'none found'}")
    return replace(chosen, args=tuple(words[1:]))


def choose_entries(root: Path, wanted: tuple[str, ...], interactive: bool) -> list[EntryCandidate]:
    """The entries ``--entry`` names (in order), the only plausible one, every notebook of a
    folder of notebooks, or the user's pick."""
    candidates = discover(root)
    if wanted:
        return [_wanted(root, candidates, text) for text in wanted]
    if not candidates:
        raise InputError(f"{root}: no entry point found (no script with a __main__ block, "
                         "notebook or MLproject)", "pass --entry SCRIPT.py, or add "
                                                   "`if __name__ == \"__main__\":` to it")
    best = plausible(candidates)
    notebooks = all(c.kind == "notebook" for c in best)
    if len(best) == 1:
        return best
    if interactive:
        return _ask(best, "all" if notebooks else "1")
    if notebooks:  # a folder of notebooks: each one a step, in path order
        return [replace(c, reason=c.reason + "; every notebook of the folder is a step, in path "
                        "order (no terminal to ask; --entry picks some)") for c in best]
    raise InputError(f"{root}: several entry points are plausible: {_candidate_list(best)}",
                     "pass --entry NAME to choose one (repeat --entry for steps run in order)")


def _scan(root: Path) -> Scan | None:
    try:
        from samepack.scan import scan_project
    except ImportError:
        warn("the scanner is not available: resources and Python are not inferred")
        return None
    return scan_project(root)


def _report(inference: Inference) -> None:
    from rich.text import Text  # plain text: patterns hold [...] that is not markup

    out.print(titled_table("samepack init: what was inferred", ("field", "value", "why"),
                           ((Text(r.what), Text(r.value), Text(r.why))
                            for r in inference.reasons)))
    for message in inference.warnings:
        warn(message)


@click.command("init")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("-e", "--entry", "entries", metavar="NAME", multiple=True,
              help="Entry point to use (script, notebook or MLproject entry point), with its "
                   "arguments if any (\"train.py --epochs 3\"). Repeat it for steps that run in "
                   "order, each after the one before.")
@click.option("--name", help="Program name (default: the directory's name).")
@click.option("--version", "version", help="Program version (default: 0.1.0).")
@click.option("--force", is_flag=True, help="Replace an existing samepack.yaml.")
@click.option("--dry-run", is_flag=True, help="Print the program on stdout; write nothing.")
def init(path: Path, entries: tuple[str, ...], name: str | None, version: str | None, force: bool,
         dry_run: bool) -> None:
    """Write PATH/samepack.yaml from the project's entry points, parameters, data and lock.

    Parameters are read from the code (argparse, click, typer, sys.argv, a notebook's
    `parameters` cell, MLproject) without running it; `name: value` lines the code prints
    get a metric pattern.
    """
    root = path.resolve()
    if not root.is_dir():
        raise InputError(f"{path}: not a directory", "give the project directory")
    target = root / "samepack.yaml"
    if target.exists() and not force and not dry_run:
        raise ConflictError(f"{target}: already exists; not overwritten",
                            "pass --force to replace it, or edit it by hand")
    chosen = choose_entries(root, entries, interactive=sys.stdin.isatty())
    inference = infer_program(root, chosen, _scan(root), f"{sys.version_info[0]}."
                              f"{sys.version_info[1]}", name=name, version=version)
    if dry_run:
        click.echo(render(inference.program), nl=False)
        return
    _report(inference)
    write_program(target, inference.program, force=force)
    info(f"wrote {target}")
