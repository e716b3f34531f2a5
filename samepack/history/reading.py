"""Run records from rows of the ``runs`` table: their steps, metric points and output tails
read in one query per table (per chunk of ids), not one per run, so listing 10,000 runs
costs four queries, not 30,000, and their JSON columns decoded by one ``json.loads``. A
damaged run (see :mod:`samepack.history.columns`, and :mod:`samepack.history.rowtypes` for a
value of a wrong type, checked in SQL here: a record is shown, compared or exported as it is)
is raised, or left out and given to the caller's ``damaged``."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterable

from samepack.history.columns import decoded_rows, metric_damage
from samepack.history.damage import DamagedRunError
from samepack.history.listing import IDS_PER_QUERY, Damaged
from samepack.history.records import MetricPoint, RunRecord, StepRecord
from samepack.history.rowtypes import id_damage, type_damage

Series = dict[str, dict[str, list[MetricPoint]]]  # run id -> metric name -> points


def records_of_rows(db: sqlite3.Connection, path: Path, rows: list[sqlite3.Row],
                    damaged: Damaged = None) -> list[RunRecord]:
    """The records of ``rows`` (``SELECT *, rowid`` of ``runs``, sqlite3.Row), in their
    order."""
    steps: dict[str, list[StepRecord]] = {}
    series: Series = {}
    tails: dict[tuple[str, str], str] = {}
    rows = _with_text_ids(db, path, rows, damaged)
    ids = [row["id"] for row in rows]
    bad: dict[str, DamagedRunError] = type_damage(db, path, ids)
    for start in range(0, len(ids), IDS_PER_QUERY):
        chunk = ids[start:start + IDS_PER_QUERY]
        marks = ",".join("?" * len(chunk))
        tails.update(((r[0], r[1]), r[2]) for r in db.execute(
            f"SELECT run_id, step, tail FROM logs WHERE run_id IN ({marks})", chunk))
        for r in db.execute(f"SELECT * FROM steps WHERE run_id IN ({marks}) "
                            "ORDER BY run_id, seq", chunk):
            steps.setdefault(r["run_id"], []).append(StepRecord(
                r["name"], r["exit_code"], r["started_at"], r["duration_s"], r["status"],
                tails.get((r["run_id"], r["name"]))))
        points = f"SELECT * FROM metrics WHERE run_id IN ({marks}) ORDER BY run_id, seq"
        try:
            _add_points(series, db.execute(points, chunk))
        except (TypeError, ValueError):  # a point that is not a number: find whose
            found = metric_damage(path, db.execute(
                f"SELECT run_id, seq, name, value FROM metrics WHERE run_id IN ({marks})", chunk))
            bad.update({run_id: error for run_id, error in found.items() if run_id not in bad})
            for run_id in chunk:
                series.pop(run_id, None)
            _add_points(series, (r for r in db.execute(points, chunk) if r["run_id"] not in found))
    texts = [(row["params"], row["artifacts"], row["host"], row["tags"]) for row in rows]
    columns = decoded_rows(path, ids, texts, bad)
    records = []
    for row, four in zip(rows, zip(*[iter(columns)] * 4)):
        error = bad.get(row["id"])
        if error is None:
            records.append(_record(row, four, steps.get(row["id"], []), series.get(row["id"], {})))
        elif damaged is None:
            raise error
        else:
            damaged(error)
    return records


def _with_text_ids(db: sqlite3.Connection, path: Path, rows: list[sqlite3.Row],
                   damaged: Damaged) -> list[sqlite3.Row]:
    """``rows`` without those whose id is not text (NULL, a blob), raised or told of."""
    kept = []
    for row in rows:
        if type(row["id"]) is str:
            kept.append(row)
            continue
        error = id_damage(db, path, row["rowid"])
        if damaged is None:
            raise error
        damaged(error)
    return kept


def _add_points(series: Series, rows: Iterable[sqlite3.Row]) -> None:
    for r in rows:
        series.setdefault(r["run_id"], {}).setdefault(r["name"], []).append(
            MetricPoint(float(r["value"]), r["step"], r["timestamp"], r["stage"]))


def _record(row: sqlite3.Row, columns: tuple, steps: list[StepRecord],
            series: dict[str, list[MetricPoint]]) -> RunRecord:
    params, artifacts, host, tags = columns
    return RunRecord(
        id=row["id"], program=row["program"], version=row["version"], params=params,
        status=row["status"], started_at=row["started_at"], ended_at=row["ended_at"],
        steps=steps, metrics={name: points[-1].value for name, points in sorted(series.items())},
        metric_series=dict(sorted(series.items())), artifacts=artifacts,
        lock_digest=row["lock_digest"], git_commit=row["git_commit"],
        git_dirty=None if row["git_dirty"] is None else bool(row["git_dirty"]),
        host=host, source=row["source"], tags=tags)
