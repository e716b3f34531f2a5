"""``samepack reproduce``: re-run a recorded run elsewhere and say whether the results match."""

from __future__ import annotations

from pathlib import Path

import click

from samepack.commands.jsonmode import emit, error_document, json_option, text_to_stderr
from samepack.console import info, out, warn
from samepack.errors import MismatchError, RunFailedError, SamepackError
from samepack.lock.indexes import IndexOptions
from samepack.reproduce.compare import Tolerance
from samepack.reproduce.report import machine_table, metrics_table, write_report_files
from samepack.reproduce.session import ReproduceOptions, Reproduction, reproduce as run_reproduce


def _finish(result: Reproduction, report_dir: Path, as_json: bool = False) -> None:
    report = result.report
    if not as_json:
        out.print(metrics_table(report))
        if report.machine:
            out.print(machine_table(report))
        else:
            info("the two machines do not differ in Python, platform, CPUs, memory, GPUs or "
                 "locked package versions")
    written = write_report_files(report, report_dir)
    info(f"report: {written[1]} (and .json, .html)")
    if result.rerun_dirs and result.store.exists():
        info(f"isolated store kept at {result.store}")
    failure = _failure(report, written[1])
    if as_json:
        document = {"ok": failure is None, "outcome": report.outcome,
                    "files": [str(path) for path in written], "report": report.to_json()}
        if failure is not None:
            document["error"] = error_document(failure.message, failure.hint,
                                               failure.exit_code, type(failure).__name__)["error"]
        emit(document)
    if failure is not None:
        raise failure
    if not as_json:
        matched = report.comparison
        out.print(f"[green]reproduced: {sum(m.recorded is not None for m in matched.metrics)} "
                  f"metric(s) and {sum(a.recorded is not None for a in matched.artifacts)} output "
                  f"file(s) matched the record[/green]")


def _failure(report, markdown: Path) -> SamepackError | None:
    """The error a reproduction that did not reproduce exits with (None when it did)."""
    problems = report.comparison.problems()
    summary = "; ".join(problems[:3]) + (f" (+{len(problems) - 3} more)" if len(problems) > 3
                                          else "")
    if report.outcome == "reproduced":
        return None
    if report.outcome == "non-deterministic":
        return MismatchError(f"{report.program}: non-deterministic: the re-runs of run "
                             f"{report.run_id[:12]} disagree among themselves: {summary}",
                             "seed every random generator (Python, NumPy, frameworks) and "
                             f"see {markdown}")
    if report.outcome == "nothing-to-compare":
        return MismatchError(f"{report.program}: run {report.run_id[:12]} recorded no metrics or "
                             "output files: nothing to compare",
                             "give the step a `metrics:` pattern for the numbers it prints, log "
                             "them with MLflow, or write result files; then run and export again")
    if report.outcome == "failed":
        return RunFailedError(f"{report.program}: {report.comparison.failed_runs} re-run(s) of "
                              f"run {report.run_id[:12]} failed", f"see {markdown}")
    return MismatchError(f"{report.program}: run {report.run_id[:12]} not reproduced: "
                         f"{summary}", f"see {markdown}")


@click.command("reproduce")
@click.argument("source", metavar="BUNDLE|NAME[:VERSION]")
@click.option("--run", "run_id", metavar="ID", help="Run to reproduce (default: the latest "
                                                    "succeeded run).")
@click.option("--rtol", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Relative tolerance: |a-b| <= atol + rtol*|b|.")
@click.option("--atol", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Absolute tolerance.")
@click.option("--repeat", type=click.IntRange(min=1), default=2, show_default=True,
              help="Re-runs; when they disagree the code is non-deterministic.")
@click.option("--no-env", is_flag=True, help="Use the current interpreter instead of "
                                             "recreating the environment from the lock.")
@click.option("--find-links", multiple=True, metavar="DIR|URL",
              help="Extra place to find packages when recreating the environment.")
@click.option("--no-index", is_flag=True, help="Install only from --find-links.")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=".",
              help="Where to write the JSON and Markdown report (default: here).")
@click.option("--ignore-resources", is_flag=True, help="Re-run even if this machine falls short.")
@click.option("--keep-store", is_flag=True, help="Keep the isolated store for inspection.")
@json_option()
def reproduce(source: str, run_id: str | None, rtol: float, atol: float, repeat: int,
              no_env: bool, find_links: tuple[str, ...], no_index: bool, report_dir: Path,
              ignore_resources: bool, keep_store: bool, as_json: bool) -> None:
    """Re-run a recorded run of BUNDLE (or of a program in the store) in an isolated store and
    compare every recorded metric and output file. Exit 0 only when everything matched."""
    if repeat == 1:
        warn("--repeat 1: a non-deterministic program cannot be told apart from one that "
             "does not reproduce")
    options = ReproduceOptions(run_id=run_id, tolerance=Tolerance(rtol=rtol, atol=atol),
                               repeat=repeat, create_env=not no_env,
                               index=IndexOptions(find_links=find_links, no_index=no_index),
                               ignore_resources=ignore_resources, keep_store=keep_store)
    with text_to_stderr(as_json):
        reproduction = run_reproduce(source, options)
    _finish(reproduction, report_dir, as_json)
