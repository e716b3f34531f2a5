"""``samepack package-env``: lock the project's environment and write its files;
``--check`` fails with the differences when the lock no longer matches the project."""

from __future__ import annotations

from pathlib import Path

import click

from samepack.commands.index_args import channels_from_cwd, from_cwd, index_options
from samepack.commands.jsonmode import emit, error_document, json_option
from samepack import progress
from samepack.console import columns, info, out, warn
from samepack.envfiles.package import PackageReport, check_env, package_env
from samepack.envfiles.project import EnvOptions
from samepack.errors import DriftError
from samepack.lock.base import LOCKER_NAMES
from samepack.lock.download_size import download_size
from samepack.lock.indexes import IndexOptions
from samepack.lock.platforms import UV_PLATFORMS


@click.command("package-env")
@click.argument("path", type=click.Path(file_okay=False, exists=True, path_type=Path), default=".")
@click.option("--locker", type=click.Choice(LOCKER_NAMES), help="Lock tool (default: uv; "
              "conda-lock for conda projects; or [tool.samepack] locker in pyproject.toml).")
@click.option("--python", "python", metavar="VERSION", help="Target Python, e.g. 3.10.")
@click.option("--platform", "platforms", multiple=True, type=click.Choice(sorted(UV_PLATFORMS)),
              help="Target platform (repeatable); default: this machine's.")
@click.option("--from-env", is_flag=True, help="Pin the versions installed in this environment.")
@click.option("--channel", "channels", multiple=True, metavar="URL|DIR",
              help="conda channel replacing environment.yml's channels (repeatable).")
@index_options
@click.option("--pylock", is_flag=True, help="Also write pylock.toml (PEP 751).")
@click.option("--upgrade", "-U", is_flag=True,
              help="Let every version move (the pins of existing lock files are kept otherwise).")
@click.option("--upgrade-package", "-P", "upgrade_packages", multiple=True, metavar="NAME",
              help="Let this package's version move (repeatable).")
@click.option("--force", is_flag=True, help="Replace the project's own lock files.")
@click.option("--check", is_flag=True, help="Only check that the lock still matches the project.")
@click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing.")
@json_option()
def package_env_command(path: Path, locker: str | None, python: str | None,
                        platforms: tuple[str, ...], from_env: bool, channels: tuple[str, ...],
                        find_links: tuple[str, ...], no_index: bool, index_url: str | None,
                        pylock: bool, upgrade: bool, upgrade_packages: tuple[str, ...],
                        force: bool, check: bool, dry_run: bool, as_json: bool) -> None:
    """Scan PATH, lock its environment with hashes, and write the environment files."""
    options = EnvOptions(locker=locker, python=python, platforms=platforms, from_env=from_env,
                         index=IndexOptions(from_cwd(find_links), no_index, index_url),
                         channels=channels_from_cwd(channels),
                         pylock=pylock, force=force, upgrade=upgrade,
                         upgrade_packages=upgrade_packages)
    if check:
        _check(path, options, as_json)
        return
    with progress.shown(not as_json):
        report = package_env(path, options, write=not dry_run)
    if as_json:
        for note in report.inputs.notes:
            warn(note)
        emit(report_json(report, dry_run))
        return
    _show(report, dry_run)


def report_json(report: PackageReport, dry_run: bool) -> dict:
    """``package-env --json``: what was locked and what happened to each file."""
    result = report.result
    size = download_size(result.files)
    return {"ok": True, "locker": report.choice.name, "locker_source": report.choice.source,
            "python": result.python, "platforms": result.platforms,
            "packages": {f"{p.manager}:{p.name}": p.version for p in result.pins},
            "kept_from_existing_locks": len(report.kept), "notes": report.inputs.notes,
            "files": [{"path": f.path, "action": f.action} for f in report.files],
            "download_size": size.total if size and size.known else None,
            "download_size_unknown_packages": size.unsized if size else None,
            "dry_run": dry_run}


def _check(path: Path, options: EnvOptions, as_json: bool = False) -> None:
    differences = check_env(path, options)
    drift = None
    if differences:
        plural = "s" if len(differences) != 1 else ""
        drift = DriftError(f"{path}: the lock is out of date ({len(differences)} difference{plural})",
                           hint=f"run `samepack package-env {path}` and commit the result")
    if as_json:
        document = {"ok": drift is None, "up_to_date": drift is None, "differences": differences}
        if drift is not None:
            document["error"] = error_document(drift.message, drift.hint, drift.exit_code,
                                               type(drift).__name__)["error"]
        emit(document)
    elif differences:
        out.print("\n".join(differences), highlight=False, markup=False)
    if drift is not None:
        raise drift
    info(f"{path}: the lock matches the project")


def _show(report: PackageReport, dry_run: bool) -> None:
    choice = report.choice
    for note in report.inputs.notes:
        warn(note)
    info(f"locked {len(report.result.pins)} packages with {choice.name} ({choice.source}) for "
         f"Python {report.result.python} on {', '.join(report.result.platforms)}")
    if report.kept:
        info(f"kept the versions of {len(report.kept)} packages pinned by the existing lock files "
             "(--upgrade or --upgrade-package NAME lets them move)")
    size = download_size(report.result.files)
    info(f"download size: {size.describe()}" if size else
         "download size: unknown (this lock records no file sizes; --pylock with the uv "
         "locker records the index's sizes)")
    columns(("file", "action" if not dry_run else "would"),
            [(item.path, item.action) for item in report.files])
