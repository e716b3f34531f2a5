"""``samepack run``: a registered program or a program file, here or on a cluster.

Its own module, so that a run loads only the command it runs (``samepack.cli.LAZY_COMMANDS``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import click

from samepack.console import info, json_result, result
from samepack.errors import InputError
from samepack.startup import loading


@dataclass(frozen=True)
class ClusterOptions:
    """The options of ``run`` that only a cluster run has."""

    timeout: float | None = None
    no_wait: bool = False
    registry: str | None = None

    def given(self) -> str | None:
        """The first of them given on the command line, as its flag."""
        for flag, value in (("--timeout", self.timeout is not None), ("--no-wait", self.no_wait),
                            ("--registry", self.registry)):
            if value:
                return flag
        return None


def _run_local(program, workdir: Path, overrides: dict[str, Any], ignore_resources: bool,
               env_manager: str = "samepack", cluster: ClusterOptions = ClusterOptions()):
    with loading():
        from samepack.run.local import RunRequest, run_local

    flag = cluster.given()
    if flag:
        raise InputError(f"{flag}: applies to --target k8s only",
                         "leave it out for a local run, or add --target k8s")
    return run_local(RunRequest(program, workdir, overrides, ignore_resources,
                                env_manager=env_manager))


def _run_k8s(program, workdir: Path, overrides: dict[str, Any], ignore_resources: bool,
             env_manager: str = "samepack", cluster: ClusterOptions = ClusterOptions()):
    with loading():
        from samepack.k8s.runs.run import run_target

    return run_target(program, workdir, overrides, ignore_resources, cluster.timeout,
                      wait=not cluster.no_wait, registry=cluster.registry)


# --target NAME -> runner(program, workdir, overrides, ignore_resources, env_manager,
# ClusterOptions) -> RunRecord | None. Other targets add one entry here.
TARGETS: dict[str, Callable[..., Any]] = {"local": _run_local, "k8s": _run_k8s}


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("-f", "--file", "file_", type=click.Path(path_type=Path),
              help="Run a program file directly instead of a registered program.")
@click.option("--target", type=click.Choice(sorted(TARGETS)), default="local", show_default=True,
              help="Where the steps run.")
@click.option("--ignore-resources", is_flag=True, help="Run even if this machine falls short.")
@click.option("--env-manager", type=click.Choice(["samepack", "local"]), default="samepack",
              show_default=True,
              help="samepack: the environment made from the program's lock (cached by its "
                   "digest); local: the current interpreter, as it is.")
@click.option("--timeout", type=click.FloatRange(min=0), metavar="SECONDS",
              help="With --target k8s: how long each step may wait and run on the cluster "
                   "(default $SAMEPACK_K8S_TIMEOUT, else 24 h).")
@click.option("--no-wait", is_flag=True,
              help="With --target k8s: submit the run and return; samepack runs wait ID (or "
                   "runs show ID) records its results later.")
@click.option("--registry", metavar="oci://HOST/REPO",
              help="With --target k8s: the registry data sets over 768 KiB and the steps' "
                   "output files travel through (default $SAMEPACK_K8S_REGISTRY).")
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON at the end.")
@click.option("-e", "--entry-point", metavar="NAME",
              help="Run only this step (an MLproject entry point) and the steps it needs.")
@click.option("--tracking-uri", metavar="URI", help="MLflow store the steps log to and the run is "
              "recorded in (as SAMEPACK_TRACKING_URI; default: MLFLOW_TRACKING_URI, else a store "
              "of the run's own).")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(file_: Path | None, target: str, ignore_resources: bool, env_manager: str,
        timeout: float | None, no_wait: bool, registry: str | None, as_json: bool,
        entry_point: str | None,
        tracking_uri: str | None, args: tuple[str, ...]) -> None:
    """Run a program: samepack run program NAME[:VERSION] [--PARAM=VALUE ...]
    or samepack run -f FILE [--PARAM=VALUE ...] (the file is registered as NAME:VERSION)."""
    with loading():
        from samepack.run.params import parse_overrides

    if tracking_uri:
        os.environ["SAMEPACK_TRACKING_URI"] = tracking_uri  # read where the run starts

    program, workdir, rest = _chosen_program(file_, list(args))
    if entry_point:
        from samepack.program.mlproject import select_entry_point

        program = select_entry_point(program, entry_point)
    record = TARGETS[target](program, workdir, parse_overrides(rest), ignore_resources,
                             env_manager, ClusterOptions(timeout, no_wait, registry))
    if record is not None:
        _print_summary(record, as_json)


def _chosen_program(file_: Path | None, args: list[str]):
    if file_ is not None:
        return (*_registered_file(file_), args)
    if len(args) < 2 or args[0] != "program" or args[1].startswith("--"):
        raise InputError("which program? use: samepack run program NAME[:VERSION] [--PARAM=VALUE]",
                         "or samepack run -f samepack.yaml; see samepack programs")
    with loading():
        from samepack.store import Store

    entry = Store().get(args[1])
    if not entry.workdir.is_dir():
        raise InputError(f"program {entry.ref}: its directory {entry.workdir} is gone",
                         "re-register it with samepack create program -f FILE --force")
    return entry.program, entry.workdir, args[2:]


def _registered_file(file_: Path):
    """``run -f FILE``: the file registered as NAME:VERSION (as ``create program -f`` does; the
    same content again is no new registration), so export, reproduce and the history find it.
    The file edited since is registered again in its place; NAME:VERSION registered from
    elsewhere (another file, a bundle) is an error naming the fix."""
    from samepack.errors import ConflictError, NotFoundError

    with loading():
        from samepack.program import find_program_file, load_program
        from samepack.program.canonical import program_digest
        from samepack.store import Store

    path = find_program_file(file_)
    program = load_program(path)
    workdir, source, store = path.parent.resolve(), str(path.resolve()), Store()
    try:
        registered = store.get(program.ref)
    except NotFoundError:
        registered = None
    same_file = registered is not None and registered.source == source
    if same_file and (registered.digest, registered.project_dir) == (program_digest(program),
                                                                       workdir):
        # What registering would find: the same content from the same place, nothing to do
        # (and no staging directory written and removed at every run).
        info(f"registered {registered.ref} ({registered.digest[:19]})")
        return program, workdir
    try:
        entry = store.register(program, workdir, source, force=same_file)
    except ConflictError as error:
        raise ConflictError(f"{path}: {error.message}",
                            "change metadata.version for the new content, or register it with "
                            "samepack create program -f FILE --force") from None
    info(f"registered {entry.ref} ({entry.digest[:19]})")
    return program, workdir


def _print_summary(record, as_json: bool) -> None:
    if as_json:
        json_result(record.to_dict(), sort_keys=True)
        return
    result(f"run {record.id} {record.status}")
    for name, value in record.metrics.items():
        result(f"  {name} = {value:g}")
    if record.artifacts:
        from samepack.paths import samepack_home

        where = samepack_home() / "runs" / record.id / "artifacts"
        result(f"  {len(record.artifacts)} artifact(s) in {where}")


