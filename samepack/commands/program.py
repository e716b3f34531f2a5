"""``samepack create program`` and ``samepack programs`` (``samepack run``: commands/run.py)."""

from __future__ import annotations

from pathlib import Path

import click

from samepack.console import info, json_result, out
from samepack.errors import InputError, RemoteError, ToolMissingError

BUNDLE_SUFFIXES = (".tgz", ".tar.gz", ".tar.zst", ".tzst")


@click.group("create")
def create() -> None:
    """Create things samepack keeps: programs in the local store."""


@create.command("program")
@click.option("-f", "--file", "location", required=True,
              help="samepack.yaml / same.yaml / ame.yaml / SAME notebook, a folder, a bundle, a URL, "
                   "a git repository at a revision (URL@REV, URL#REF, DIR@REV) or an https archive.")
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the steps run (default: the file's directory; for a URL, here).")
@click.option("--force", is_flag=True, help="Replace a registered NAME:VERSION with different content.")
@click.option("--json", "as_json", is_flag=True, help="Print the store entry as JSON.")
def create_program(location: str, project_dir: Path | None, force: bool, as_json: bool) -> None:
    """Register a program (NAME:VERSION) in the local store."""
    from samepack.store import Store

    from samepack.program.codesource import parse_location

    store = Store()
    source = None if location.endswith(BUNDLE_SUFFIXES) and not _is_url(location) \
        else parse_location(location)
    if source is not None:
        entry = _register_code_source(source, store, force)
    elif location.endswith(BUNDLE_SUFFIXES) and not _is_url(location):
        entry = _import_bundle(Path(location), store, force)
    elif _is_url(location):
        entry = _register_url(location, store, project_dir or Path.cwd(), force)
    else:
        entry = _register_file(Path(location), store, project_dir, force)
    if as_json:
        json_result(entry.to_json(), sort_keys=True)
    else:
        out.print(f"registered {entry.ref} ({entry.digest[:19]}), steps run in {entry.workdir}",
                  highlight=False, markup=False)


def _is_url(location: str) -> bool:
    from urllib.parse import urlparse

    return urlparse(location).scheme in {"http", "https"}


def _register_file(path: Path, store, project_dir: Path | None, force: bool):
    from samepack.console import warn
    from samepack.program import find_program_file, load_program
    from samepack.program.codesource import local_commit

    given = path
    path = find_program_file(path)
    program = load_program(path)
    origin = str(path.resolve())
    commit, dirty = local_commit((given if given.is_dir() else path.parent).resolve())
    if commit:  # a repository's top level: the store remembers the commit it was registered at
        origin = f"{origin}@{commit}"
        if dirty:
            warn(f"{given}: uncommitted changes; the steps run them, but commit {commit[:12]} "
                 "recorded with the program does not hold them")
    return store.register(program, (project_dir or path.parent).resolve(), origin, force)


def _register_code_source(source, store, force: bool):
    """Fetch the code (a git revision or an archive), then register the program it holds with
    the code in the store entry, pinned by commit (or digest) in the program's labels."""
    import shutil

    from samepack.program import find_program_file, load_program
    from samepack.program.codesource import SOURCE_LABEL, fetch

    work = store.staging_dir()
    try:
        fetched = fetch(source, work / "code")
        program = load_program(find_program_file(fetched.root))
        program.labels = {**program.labels, SOURCE_LABEL: fetched.pin}
        info(f"fetched {fetched.pin}")
        return store.register(program, None, fetched.pin, force, code=fetched.root)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _register_url(url: str, store, project_dir: Path, force: bool):
    from urllib.parse import urlparse

    import requests

    from samepack.program import load_program

    name = Path(urlparse(url).path).name or "samepack.yaml"
    import tempfile

    with tempfile.TemporaryDirectory(prefix="samepack-url-") as temp:
        target = Path(temp) / name
        try:
            with requests.get(url, timeout=60) as response:
                response.raise_for_status()
                target.write_bytes(response.content)
        except requests.RequestException as error:
            raise RemoteError(f"cannot download {url}: {error}", "check the URL") from None
        program = load_program(target)
        if not (project_dir / Path(name)).exists():
            from samepack.console import warn

            warn(f"{url}: only this file was downloaded; its steps run in {project_dir.resolve()} "
                 "(to bring the program's code, give its repository as URL@REV, or an archive)")
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
        json_result([e.to_json() for e in entries], sort_keys=True)
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
