"""``samepack runs list|show|wait|compare|import-mlflow``: the run history."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from samepack.console import err, info, json_result, json_text_result, out, warn

if TYPE_CHECKING:  # rich is imported where a table is drawn: a --json listing never needs it
    from rich.table import Table


def _history():
    from samepack.history import History

    return History()


def _json(data: Any) -> None:
    json_result(data, sort_keys=True)


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else _value(value)


@click.group("runs", invoke_without_command=True)
@click.pass_context
def runs(ctx: click.Context) -> None:
    """The run history (newest first): list, show, compare, import from MLflow."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_runs)


@runs.command("list")
@click.option("--program", "program", help="Only runs of this program (NAME).")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def list_runs(program: str | None = None, limit: int = 20, as_json: bool = False) -> None:
    """List recent runs (a run whose record is damaged is left out, with a warning)."""
    left_out: list[str] = []

    def damaged(error) -> None:
        left_out.append(error.run_id)
        warn(error.left_out())

    if as_json:
        # the canonical text (keys sorted at every depth), made in two processes when long
        json_text_result(_history().list_runs_json(program=program, limit=limit,
                                                   damaged=damaged))
        return
    records = _history().list_runs(program=program, limit=limit, damaged=damaged)
    if not records:
        if not left_out:
            info("no runs yet: samepack run program NAME")
        return
    out.print(runs_table(records))


LIST_ITEMS = 4  # params or metrics shown per run; the rest are counted


def _items(values: dict[str, Any]) -> str:
    """``name=value`` one a line (a line too long for the column is elided, never split)."""
    lines = [f"{k}={_short(v)}" for k, v in list(values.items())[:LIST_ITEMS]]
    if len(values) > LIST_ITEMS:
        lines.append(f"(+{len(values) - LIST_ITEMS} more)")
    return "\n".join(lines)


def runs_table(records, width: int | None = None) -> "Table":
    """The runs as a table that fits ``width`` (the terminal's): fixed columns never wrap, the
    program is elided past 24 characters, params and metrics share what is left, one
    ``name=value`` a line, elided (never folded) when the line is longer."""
    from rich import box
    from rich.table import Table

    imported = any(r.source != "samepack" for r in records)
    width = width or out.width
    fixed = [8, 9, 11] + ([8] if imported else [])
    rest = width - sum(fixed) - 3 * (len(fixed) + 2)  # 3: the gap between two columns
    program_width = max(min(max(len(r.ref) for r in records), 24, rest - 2 * 12), 8)
    share = max((rest - program_width) // 2, 10)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("id", no_wrap=True, width=8)
    table.add_column("program", no_wrap=True, overflow="ellipsis", width=program_width)
    table.add_column("status", no_wrap=True, width=9)
    table.add_column("started", no_wrap=True, width=11)
    table.add_column("params", no_wrap=True, overflow="ellipsis", width=share)
    table.add_column("metrics", no_wrap=True, overflow="ellipsis", width=share)
    if imported:
        table.add_column("source", no_wrap=True, overflow="ellipsis", width=8)
    for r in records:
        row = [r.id[:8], r.ref, r.status, (r.started_at or "")[5:16].replace("T", " "),
               _items(r.params), _items(r.metrics)]
        table.add_row(*row, *([r.source] if imported else []))
    return table


TAIL_SHOWN, TAIL_FAILED = 10, 60
ARTIFACT_ORIGINS = {"output": "working directory", "cell": "notebook cell output"}


def _collected(history, record, *, wait: bool, timeout: float):
    """The run's record; a cluster run submitted with --no-wait has what the cluster says now
    recorded first (``samepack.k8s.runs.collect``)."""
    if record.status != "running" or record.tags.get("target") != "k8s":
        return record
    from samepack.k8s.runs.collect import collect, is_detached

    if not is_detached(record):
        return record
    from samepack.k8s.api.cluster import Cluster
    from samepack.k8s.runs.run import CONTEXT_TAG

    cluster = Cluster.connect(record.tags.get(CONTEXT_TAG))
    try:
        return collect(cluster, history, record.id, wait=wait, timeout=timeout, report=info,
                       on_line=lambda line: err.print(line, markup=False, highlight=False))
    finally:
        cluster.close()


@runs.command("wait")
@click.argument("run_id")
@click.option("--timeout", type=click.FloatRange(min=0), default=24 * 3600.0, metavar="SECONDS",
              show_default=True, help="How long to wait for the run to end.")
@click.option("--json", "as_json", is_flag=True)
def wait_run(run_id: str, timeout: float, as_json: bool) -> None:
    """Wait for a cluster run submitted with --no-wait, recording its steps, metrics and output
    files as they finish (exit code as samepack run's: non-zero when the run failed)."""
    from samepack.errors import RunFailedError

    history = _history()
    record = _collected(history, history.get_run(run_id), wait=True, timeout=timeout)
    if as_json:
        _json(record.to_dict())
    else:
        out.print(f"run {record.id} {record.status}", highlight=False)
        for name, value in record.metrics.items():
            out.print(f"  {name} = {_value(value)}", highlight=False)
    if record.status not in ("succeeded", "running"):
        raise RunFailedError(f"run {record.id} {record.status}",
                             hint=f"see samepack runs show {record.id[:8]}")


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True)
def show_run(run_id: str, as_json: bool) -> None:
    """Show one run (a unique prefix of its id is enough). A cluster run submitted with
    --no-wait has what finished since recorded first."""
    from samepack.errors import SamepackError

    history = _history()
    record = history.get_run(run_id)
    try:
        record = _collected(history, record, wait=False, timeout=0)
    except SamepackError as error:  # no cluster to ask now: show what is recorded
        warn(f"not collected from the cluster: {error.message}")
        record = history.get_run(record.id)
    if as_json:
        _json(record.to_dict())
        return
    from rich.table import Table

    summary = Table(show_header=False, box=None)
    for key in ("id", "program", "version", "status", "started_at", "ended_at", "source",
                "lock_digest", "git_commit", "git_dirty"):
        summary.add_row(key, _value(getattr(record, key)))
    out.print(summary)
    _section("params", ("name", "value"), [(k, _value(v)) for k, v in record.params.items()])
    _section("metrics", ("name", "last", "points"),
             [(k, _value(v), str(len(record.metric_series.get(k, [])))) for k, v in record.metrics.items()])
    _section("steps", ("step", "status", "exit code", "seconds"),
             [(s.name, s.status, _value(s.exit_code), _value(s.duration_s)) for s in record.steps])
    _section("outputs", ("path", "size", "sha256", "from"),
             [(a["path"], str(a["size"]), a["sha256"][:12],
               ARTIFACT_ORIGINS.get(a.get("kind"), "$SAMEPACK_ARTIFACTS"))
              for a in record.artifacts])
    _section("tags", ("name", "value"), sorted(record.tags.items()))
    for step in record.steps:
        _print_tail(step)


def _print_tail(step) -> None:
    """The end of what a step printed: more of it for a step that did not succeed."""
    if not step.log_tail:
        return
    lines = step.log_tail.splitlines()[-(TAIL_FAILED if step.status != "succeeded" else TAIL_SHOWN):]
    info(f"output of step {step.name} ({step.status}), last {len(lines)} line(s):")
    for line in lines:
        out.print(f"  {line}", highlight=False, markup=False)


def _section(title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    if not rows:
        return
    from rich.table import Table

    table = Table(*columns, title=title, title_justify="left")
    for row in rows:
        table.add_row(*row)
    out.print(table)


@runs.command("compare")
@click.argument("run_ids", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True)
def compare_runs(run_ids: tuple[str, ...], as_json: bool) -> None:
    """Compare the params and metrics of two or more runs side by side."""
    if len(run_ids) < 2:
        raise click.UsageError("compare needs at least two run ids")
    history = _history()
    records = [history.get_run(run_id) for run_id in run_ids]
    rows = comparison_rows(records)
    if as_json:
        _json({"runs": [r.id for r in records], "rows": rows})
        return
    out.print(compare_table(records, rows))
    differing = sum(not row["same"] for row in rows)
    info(f"{differing} of {len(rows)} values differ (marked *)")


def compare_table(records, rows: list[dict[str, Any]]) -> "Table":
    """Runs side by side; a row whose values differ is marked ``*`` and its values shown bold."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("", no_wrap=True, width=1)
    table.add_column("name", overflow="fold")
    for r in records:
        table.add_column(f"{r.id[:8]}\n{r.ref}", overflow="fold")
    for row in rows:
        style = "" if row["same"] else "bold yellow"
        table.add_row("" if row["same"] else "*", f"{row['kind']}.{row['name']}",
                      *[_value(v) for v in row["values"]], style=style)
    return table


def comparison_rows(records) -> list[dict[str, Any]]:
    """One row per param and metric name, values in run order, ``same`` when all agree."""
    rows = []
    for kind, attribute in (("param", "params"), ("metric", "metrics")):
        names = sorted({name for r in records for name in getattr(r, attribute)})
        for name in names:
            values = [getattr(r, attribute).get(name) for r in records]
            rows.append({"kind": kind, "name": name, "values": values,
                         "same": all(v == values[0] for v in values)})
    return rows


@runs.command("report")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default="samepack-runs.html", show_default=True, help="The HTML file to write.")
@click.option("--program", "program", help="Only runs of this program (NAME).")
@click.option("--version", "version", help="Only runs of this version.")
@click.option("--limit", type=click.IntRange(min=1), help="Only the newest N runs.")
@click.option("--serve", is_flag=True, help="Serve the report on 127.0.0.1 instead, refreshed "
              "as runs arrive.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port for --serve (0: any free port).")
def report(output: Path, program: str | None, version: str | None, limit: int | None,
           serve: bool, port: int) -> None:
    """Write the runs as one self-contained HTML page: runs table, charts of every metric across
    runs and over its steps, parameters against a metric, a page per run, two runs side by side.
    It needs no network: open it from disk, a bundle or a mail."""
    from samepack.insights.build import history_report, write_html
    from samepack.console import result

    if serve:
        from samepack.insights.serve import serve as serve_report

        serve_report(port, lambda: history_report(program, version, limit, live=True))
        return
    written = write_html(output, history_report(program, version, limit))
    result(str(written))


@runs.command("import-mlflow")
@click.argument("source", metavar="MLFLOW.DB|MLRUNS/|URL")
@click.option("--program", "program_ref", help="Record the runs under NAME[:VERSION] "
              "(default: the experiment's name, version 0.0.0).")
@click.option("--json", "as_json", is_flag=True)
def import_mlflow(source: str, program_ref: str | None, as_json: bool) -> None:
    """Import runs from MLflow: its SQLite store (mlflow.db), its file store (mlruns/) or a
    tracking server (http://HOST:PORT). Runs already here (by id, or logged by a samepack run)
    are not added twice."""
    from samepack.history.mlflow_link import not_doubled, without_credentials
    from samepack.history.mlflow_source import read_mlflow
    from samepack.store import parse_ref

    name, version = parse_ref(program_ref) if program_ref else (None, None)
    records = read_mlflow(source, name, version or "0.0.0", cwd=Path.cwd())
    history = _history()
    added = history.import_runs([r.to_dict() for r in not_doubled(records, history)])
    if as_json:
        _json({"found": len(records), "imported": added})
    else:
        out.print(f"imported {added} of {len(records)} MLflow run(s) from "
                  f"{without_credentials(source)}", highlight=False)
