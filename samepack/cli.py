"""The ``samepack`` command: one click group, thin commands, one place that turns errors into
one-line messages (``SamepackGroup.invoke``).

Commands live in ``samepack/commands/`` and are imported only when used (``LAZY_COMMANDS``), so
``samepack --help`` stays fast even though some commands pull in heavy clients.
"""

from __future__ import annotations

import importlib
import os

import click

from samepack import __version__
from samepack.console import message
from samepack.errors import CancelledError, SamepackError
from samepack.startup import end_of_startup, pause_collector

# name -> "module:attribute". Add a line here when you add a command module.
LAZY_COMMANDS: dict[str, str] = {
    "scan": "samepack.commands.scan:scan",
    "create": "samepack.commands.program:create",
    "programs": "samepack.commands.program:programs",
    "run": "samepack.commands.run:run",
    "runs": "samepack.commands.runs:runs",
    "build": "samepack.commands.build:build",
    "deploy": "samepack.commands.deploy:deploy",
    "undeploy": "samepack.commands.deploy:undeploy",
    "init": "samepack.commands.init:init",
    "reproduce": "samepack.commands.reproduce:reproduce",
    "push": "samepack.commands.oci:push",
    "pull": "samepack.commands.oci:pull",
    "login": "samepack.commands.oci:login",
    "logout": "samepack.commands.oci:logout",
    "package-env": "samepack.commands.package_env:package_env_command",
    "env": "samepack.commands.env:env",
    "export": "samepack.commands.bundle:export",
    "import": "samepack.commands.bundle:import_",
    "verify": "samepack.commands.bundle:verify",
    "inspect": "samepack.commands.bundle:inspect",
    "copy": "samepack.commands.oci:copy",
    "devcontainer": "samepack.commands.devcontainer:devcontainer",
    "sign": "samepack.commands.trust:sign",
    "keygen": "samepack.commands.trust:keygen",
}


def report_error(error: SamepackError) -> None:
    """Print a domain error as ``error:``/``hint:`` lines on stderr."""
    message("error", "bold red", error.message)
    if error.hint:
        message("hint", "cyan", error.hint)


def _os_error_as_domain_error(error: OSError) -> SamepackError:
    target = f": {error.filename}" if getattr(error, "filename", None) else ""
    return SamepackError(f"{error.strerror or error}{target}")


def _json_error(ctx: click.Context, error: SamepackError | click.ClickException) -> None:
    """A command run with ``--json`` answers its failure as a JSON document on stdout too."""
    if ctx.meta.get("samepack.json.requested"):
        from samepack.commands.jsonmode import report_json_error

        report_json_error(ctx, error)


class SamepackGroup(click.Group):
    """A group whose subcommands are imported on first use and whose domain errors become
    ``error: ...`` lines with the error's exit code (``--debug`` shows the traceback)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module_name, attribute = LAZY_COMMANDS[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            end_of_startup()
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        debug = bool(ctx.params.get("debug") or os.environ.get("SAMEPACK_DEBUG"))
        try:
            return super().invoke(ctx)
        except click.ClickException as raised:  # usage errors: click prints them, exit 2
            _json_error(ctx, raised)
            raise
        except KeyboardInterrupt:
            error: SamepackError = CancelledError("interrupted")
        except SamepackError as raised:
            error = raised
        except OSError as raised:
            if debug:
                raise
            error = _os_error_as_domain_error(raised)
        _json_error(ctx, error)
        if debug:
            raise error
        report_error(error)
        ctx.exit(error.exit_code)


@click.group(cls=SamepackGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="samepack")
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """samepack: make machine-learning work reproducible and portable.

    Scan a project, lock its environment, run its program, and move it as one verified
    bundle to another machine, a registry or a Kubernetes cluster.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main() -> None:
    """Entry point of the console script (the collector is paused while modules load:
    :mod:`samepack.startup`)."""
    from samepack.bundle.system import gcpause

    pause_collector()
    gcpause.freeze_after = True  # this process ends with its command
    cli(prog_name="samepack")
