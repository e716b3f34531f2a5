"""``samepack create program``, ``samepack programs`` and ``samepack run``."""

from __future__ import annotations

import json
import tempfile
import os
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

import click

from samepack.console import info, out
from samepack.errors import InputError, RemoteError, ToolMissingError

BUNDLE_SUFFIXES = (".tgz", ".tar.gz", ".tar.zst", ".tzst")


@click.group("create")
def create() -> None:
    """Create things samepack keeps: programs in the local store."""


@create.command("program")
@click.option("-f", "--file", "location", required=True,
              help="samepack.yaml / same.yaml / ame.yaml / SAME notebook, a URL, or a bundle.")
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the steps run (default: the file's directory; for a URL, here).")
@click.option("--force", is_flag=True, help="Replace a registered NAME:VERSION with different content.")
@click.option("--json", "as_json", is_flag=True, help="Print the store entry as JSON.")
def create_program(location: str, project_dir: Path | None, force: bool, as_json: bool) -> None:
    """Register a program (NAME:VERSION) in the local store."""
    from samepack.store import Store

    store = Store()
    if location.endswith(BUNDLE_SUFFIXES) and not _is_url(location):
        entry = _import_bundle(Path(location), store, force)
    elif _is_url(location):
        entry = _register_url(location, store, project_dir or Path.cwd(), force)
    else:
        entry = _register_file(Path(location), store, project_dir, force)
    if as_json:
        out.print_json(json.dumps(entry.to_json(), sort_keys=True))
    else:
        out.print(f"registered {entry.ref} ({entry.digest[:19]}), steps run in {entry.workdir}",
                  highlight=False, markup=False)


def _is_url(location: str) -> bool:
    return urlparse(location).scheme in {"http", "https"}


def _register_file(path: Path, store, project_dir: Path | None, force: bool):
    from samepack.program import find_program_file, load_program

    path = find_program_file(path)
    program = load_program(path)
    return store.register(program, (project_dir or path.parent).resolve(), str(path.resolve()), force)


def _register_url(url: str, store, project_dir: Path, force: bool):
    import requests

    from samepack.program import load_program

    name = Path(urlparse(url).path).name or "samepack.yaml"
    with tempfile.TemporaryDirectory(prefix="samepack-url-") as temp:
        target = Path(temp) / name
        try:
            with requests.get(url, timeout=60) as response:
                response.raise_for_status()
                target.write_bytes(response.content)
        except requests.RequestException as error:
            raise RemoteError(f"cannot download {url}: {error}", "check the URL") from None
        program = load_program(target)
        return store.register(program, project_dir.resolve(), url, force)


def _import_bundle(path: Path, store, force: bool):
    try:
        from samepack.bundle import import_bundle  # type: ignore[attr-defined]
    except ImportError:
        raise ToolMissingError("importing bundles is not available in this samepack",
                               "upgrade samepack") from None
    if not path.is_file():
        raise InputError(f"{path}: no such bundle", "check the path")
    return import_bundle(path, store, force=force)


@click.command("programs")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def programs(as_json: bool) -> None:
    """List the programs in the local store."""
    from rich.table import Table

    from samepack.store import Store

    entries = Store().list()
    if as_json:
        out.print_json(json.dumps([e.to_json() for e in entries], sort_keys=True))
        return
    if not entries:
        info("no programs yet: samepack create program -f samepack.yaml")
        return
    table = Table("name", "version", "steps", "from", "digest", "runs in")
    for entry in entries:
        table.add_row(entry.name, entry.version, _step_count(entry), entry.created_from,
                      entry.digest[7:19], str(entry.workdir))
    out.print(table)


def _step_count(entry) -> str:
    """How many steps, or why the stored program cannot be read (the listing goes on)."""
    from samepack.errors import SamepackError

    try:
        return str(len(entry.program.steps))
    except SamepackError as error:
        return f"unreadable: {error.message}"


def _run_local(program, workdir: Path, overrides: dict[str, Any], ignore_resources: bool):
    from samepack.run import RunRequest, run_local

    return run_local(RunRequest(program, workdir, overrides, ignore_resources))


def _run_k8s(program, workdir: Path, overrides: dict[str, Any], ignore_resources: bool):
    from samepack.k8s.run import run_target

    return run_target(program, workdir, overrides, ignore_resources)


# --target NAME -> runner(program, workdir, overrides, ignore_resources) -> RunRecord | None.
# Other targets (a cluster) add one entry here.
TARGETS: dict[str, Callable[..., Any]] = {"local": _run_local, "k8s": _run_k8s}


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("-f", "--file", "file_", type=click.Path(path_type=Path),
              help="Run a program file directly instead of a registered program.")
@click.option("--target", type=click.Choice(sorted(TARGETS)), default="local", show_default=True,
              help="Where the steps run.")
@click.option("--ignore-resources", is_flag=True, help="Run even if this machine falls short.")
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON at the end.")
@click.option("-e", "--entry-point", metavar="NAME",
              help="Run only this step (an MLproject entry point) and the steps it needs.")
@click.option("--tracking-uri", metavar="URI", help="MLflow store the steps log to and the run is "
              "recorded in (as SAMEPACK_TRACKING_URI; default: MLFLOW_TRACKING_URI, else a store "
              "of the run's own).")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(file_: Path | None, target: str, ignore_resources: bool, as_json: bool,
        entry_point: str | None, tracking_uri: str | None, args: tuple[str, ...]) -> None:
    """Run a program: samepack run program NAME[:VERSION] [--PARAM=VALUE ...]
    or samepack run -f FILE [--PARAM=VALUE ...]."""
    from samepack.run.params import parse_overrides

    if tracking_uri:
        os.environ["SAMEPACK_TRACKING_URI"] = tracking_uri  # read where the run starts

    program, workdir, rest = _chosen_program(file_, list(args))
    if entry_point:
        from samepack.program.mlproject import select_entry_point

        program = select_entry_point(program, entry_point)
    record = TARGETS[target](program, workdir, parse_overrides(rest), ignore_resources)
    if record is not None:
        _print_summary(record, as_json)


def _chosen_program(file_: Path | None, args: list[str]):
    if file_ is not None:
        from samepack.program import find_program_file, load_program

        path = find_program_file(file_)
        return load_program(path), path.parent.resolve(), args
    if len(args) < 2 or args[0] != "program" or args[1].startswith("--"):
        raise InputError("which program? use: samepack run program NAME[:VERSION] [--PARAM=VALUE]",
                         "or samepack run -f samepack.yaml; see samepack programs")
    from samepack.store import Store

    entry = Store().get(args[1])
    if not entry.workdir.is_dir():
        raise InputError(f"program {entry.ref}: its directory {entry.workdir} is gone",
                         "re-register it with samepack create program -f FILE --force")
    return entry.program, entry.workdir, args[2:]


def _print_summary(record, as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(record.to_dict(), sort_keys=True))
        return
    out.print(f"run {record.id} {record.status}", highlight=False)
    for name, value in record.metrics.items():
        out.print(f"  {name} = {value:g}", highlight=False)
    if record.artifacts:
        from samepack.paths import samepack_home

        where = samepack_home() / "runs" / record.id / "artifacts"
        out.print(f"  {len(record.artifacts)} artifact(s) in {where}", highlight=False, markup=False)


