"""``samepack scan [PATH]``: what a project needs, with evidence."""

from __future__ import annotations

import re
from pathlib import Path

import click

from samepack.console import out, warn
from samepack.errors import InputError
from samepack.scan import scan_project
from samepack.scan.report.render import requirement_lines, scan_json
from samepack.scan.resolve.stdlib import VERSIONS

FORMATS = ("table", "json", "requirements")


def _check_python(value: str | None) -> str | None:
    if value is None:
        return None
    if not re.fullmatch(r"3\.\d+", value) or value not in VERSIONS:
        raise InputError(f"--python {value}: not a Python version samepack knows",
                         hint=f"give major.minor, one of {', '.join(VERSIONS)}")
    return value


@click.command("scan")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--python", "python", metavar="X.Y",
              help="Target Python whose standard library is used (default: the project's exact "
                   "declared Python, else the running one).")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default=None,
              help="Output: a table (default), JSON (docs/scan-json.md) or a requirements list.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--no-installed", is_flag=True,
              help="Map imports without the active environment's installed metadata "
                   "(table and names only), so the answer does not depend on what is installed.")
@click.option("--parse", "parse_mode", type=click.Choice(["auto", "full", "fast"]), default="auto",
              show_default=True, help="full: parse every file; fast: parse only import "
                                      "statements (large trees); auto picks by size.")
@click.option("--used-only", is_flag=True,
              help="With --format requirements: only dependencies the code imports.")
def scan(path: Path, python: str | None, output_format: str | None, as_json: bool,
         no_installed: bool, parse_mode: str, used_only: bool) -> None:
    """Find what the project at PATH needs: imports, declared dependencies, Python, system
    libraries and hardware, each with file:line evidence. Nothing is executed, nothing is
    fetched from the network."""
    if as_json and output_format not in (None, "json"):
        raise InputError("--json and --format are contradictory", hint="give one of them")
    chosen = "json" if as_json else output_format or "table"
    result = scan_project(path, _check_python(python), use_installed=not no_installed,
                          parse_mode=parse_mode)
    if chosen == "json":
        click.echo(scan_json(result), nl=False)
    elif chosen == "requirements":
        lines = requirement_lines(result, used_only)
        click.echo("".join(line + "\n" for line in lines), nl=False)
    else:
        from samepack.scan.report.table import scan_table  # rich only for the table

        out.print(scan_table(result))
    if result.problems and chosen != "table":
        warn(f"{len(result.problems)} file(s) could not be read; see \"problems\" in --json")
