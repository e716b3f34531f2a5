"""The run listing as JSON-ready dicts (``runs list --json``), built straight from the rows.

``[r.to_dict() for r in History.list_runs(...)]`` in content, made without record objects:
the runs' rows come from the listing query itself (newest first, through its index), their
JSON columns are decoded by one ``json.loads`` of their texts joined, and their steps, output
tails and metric points are read one query per table. A listing that holds most of the
history reads those tables whole, once (a lookup per run id costs a B-tree search per row
and made the lookups slower than the scan); a short one looks its runs up by id, so its
time does not grow with the runs it does not show.

Every dict comes out with its keys in sorted order at every depth (the JSON columns decoded
into sorted dicts, whoever wrote them), so ``json.dumps(..., sort_keys=False)`` of the list
is already the canonical text. ``listed_runs_json`` gives that text, and for a long listing on
a machine with a core to spare makes it in two processes at once: the dump of a list is its
items' dumps joined by ", ", so the halves' texts join into exactly the whole's.

A damaged run (a JSON column or metric point that is not what samepack writes, see
:mod:`samepack.history.columns`; a value of a type samepack never writes, see
:mod:`samepack.history.rowtypes`) is found when the one ``json.loads``, the metric loop or
``json.dumps`` fails (the queries select a row whose number columns hold another type so that
they do), or an id or ``git_dirty`` is not of its type; only then are the rows looked at one by
one (their types in SQL), and the damaged runs left out of the listing and reported (or the
first raised).
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from samepack.bundle.system.gcpause import gc_paused
from samepack.errors import ResourceError
from samepack.history.columns import decoded_rows, metric_damage
from samepack.history.damage import DamagedRunError, busy_timeout_s, database_error
from samepack.history.records import RECORD_FORMAT
from samepack.history.rowtypes import (IDS_PER_QUERY, id_damage, row_guarded, rowid_of,
                                       type_damage)

RUN_COLUMNS = ("id, program, version, status, started_at, ended_at, lock_digest, git_commit, "
               "git_dirty, source, params, artifacts, host, tags")
_JSON_COLUMNS = slice(10, 14)  # params, artifacts, host, tags
PARALLEL_FROM = 2000  # runs; a shorter listing is made faster than a second process starts

# A row whose number columns hold another type (or a metric's value a blob, which float()
# would read) has its exit code selected as a blob, which json.dumps refuses, or its metric
# value as NULL, which float() refuses: the listing is then made again checked (see
# ``_listing_text``).
_EXIT_CODE = row_guarded("steps", "exit_code", ("exit_code", "duration_s"), "X''")
_VALUE = row_guarded("metrics", "value", ("value", "step", "timestamp"), "NULL")
_STEPS = f"SELECT run_id, name, {_EXIT_CODE}, started_at, duration_s, status FROM steps"
_METRICS = f"SELECT run_id, name, {_VALUE}, step, timestamp, stage FROM metrics"
_METRIC_VALUES = "SELECT run_id, seq, name, value FROM metrics"
_TAILS = "SELECT run_id, step, tail FROM logs"
_IN_ORDER = " ORDER BY run_id, seq"

_first = itemgetter(0)
_git_dirty = itemgetter(8)
Damaged = Callable[[DamagedRunError], None] | None  # told of each damaged run; None: raise it


def sorted_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A decoded JSON object with its keys in sorted order (the last of duplicates kept, as
    ``dict`` does): a column written by hand or by an older samepack need not be sorted."""
    if len(pairs) > 1:
        pairs.sort(key=_first)  # stable: of duplicate keys the last still wins in dict()
    return dict(pairs)


def listed_run_dicts(db: sqlite3.Connection, path: Path, query: str, args: list[Any],
                     damaged: Damaged = None) -> list[dict[str, Any]]:
    """The runs ``query`` selects (``RUN_COLUMNS``, in listing order) as record dicts; a
    damaged run is left out and given to ``damaged`` (None: raised)."""
    cursor = _tuple_cursor(db)
    # Tens of thousands of small dicts and no cycles: collections would only walk them again.
    with gc_paused():  # checked by type in SQL: no json.dumps after notices a blob
        return _dicts_of_rows(cursor, cursor.execute(query, args).fetchall(), path, damaged,
                              check=True)


def _tuple_cursor(db: sqlite3.Connection) -> sqlite3.Cursor:
    cursor = db.cursor()
    cursor.row_factory = None  # plain tuples: a third of the time of sqlite3.Row
    return cursor


def _dicts_of_rows(cursor: sqlite3.Cursor, rows: list[tuple], path: Path,
                   damaged: Damaged = None, half: bool = False, check: bool = False
                   ) -> list[dict[str, Any]]:
    """The dicts of ``rows``, the damaged runs left out and given to ``damaged`` (None:
    raised); ``half``: they are one of two halves of a listing made at once (each half looks
    its runs up: reading the whole tables twice would undo the split); ``check``: every
    value's type checked in SQL (else only when an id is not text, git_dirty not an integer
    or NULL, or a metric's value not a number: the other types json.dumps refuses)."""
    if not set(map(type, map(_first, rows))) <= {str}:
        rows = _with_text_ids(cursor, path, rows, damaged)
    ids = [row[0] for row in rows]
    whole = not half and _most_of_history(cursor, len(ids))
    tails = {(run_id, step): tail
             for run_id, step, tail in _child_rows(cursor, _TAILS, "", ids, whole)}
    bad: dict[str, DamagedRunError] = {}
    # bool() takes any value: git_dirty is the one column whose wrong type nothing refuses
    typed = check or not set(map(type, map(_git_dirty, rows))) <= {int, type(None)}
    if typed:
        bad = type_damage(cursor, path, None if whole else ids)
    steps: dict[str, list[dict[str, Any]]] = {}
    for run_id, name, code, started, duration, status in _child_rows(
            cursor, _STEPS, _IN_ORDER, ids, whole):
        steps.setdefault(run_id, []).append(
            {"duration_s": duration, "exit_code": code, "log_tail": tails.get((run_id, name)),
             "name": name, "started_at": started, "status": status})
    metric_rows = _child_rows(cursor, _METRICS, _IN_ORDER, ids, whole)
    try:
        series = _series(row for row in metric_rows if row[0] not in bad) if bad else (
            _series(metric_rows))
    except (TypeError, ValueError):  # a point that is not a number: find whose, leave them out
        if not typed:
            bad, typed = type_damage(cursor, path, None if whole else ids), True
        bad = {**metric_damage(path, _child_rows(cursor, _METRIC_VALUES, _IN_ORDER, ids, whole)),
               **bad}
        series = _series(row for row in _child_rows(cursor, _METRICS, _IN_ORDER, ids, whole)
                         if row[0] not in bad)
    columns = decoded_rows(path, ids, [row[_JSON_COLUMNS] for row in rows], bad, sorted_object)
    if bad and not typed:  # a run found damaged: what is wrong may be a value's type (a blob)
        bad.update(type_damage(cursor, path, None if whole else ids))
    # each row with its (params, artifacts, host, tags)
    pairs: Iterable[tuple[tuple, tuple]] = zip(rows, zip(*[iter(columns)] * 4))
    if bad:
        pairs = _without_damaged(pairs, bad, damaged)
    return [_run_dict(row, four, steps.get(row[0], []), series.get(row[0], {}))
            for row, four in pairs]


def _with_text_ids(cursor: sqlite3.Cursor, path: Path, rows: list[tuple],
                   damaged: Damaged) -> list[tuple]:
    """``rows`` without those whose id is not text (NULL, a blob), each raised (``damaged``
    None) or given to ``damaged``, named by its rowid (found by its values: the listing
    does not select rowids, which only such a run needs)."""
    kept, named = [], set()
    columns = RUN_COLUMNS.split(", ")
    for row in rows:
        if type(row[0]) is str:
            kept.append(row)
            continue
        rowid = rowid_of(cursor, dict(zip(columns, row)), named)
        named.add(rowid)
        error = id_damage(cursor, path, rowid)
        if damaged is None:
            raise error
        damaged(error)
    return kept


def _listing_text(cursor: sqlite3.Cursor, rows: list[tuple], path: Path, damaged: Damaged,
                  half: bool = False) -> str:
    """The inner JSON text of the dicts of ``rows``. A value ``json.dumps`` cannot write (a
    blob where samepack writes text) has the dicts made again with every type checked in
    SQL, the runs holding one left out; the damaged runs the first try met are told only
    when it succeeds (told once)."""
    told: list[DamagedRunError] = []
    try:
        text = _inner_json(_dicts_of_rows(cursor, rows, path,
                                          None if damaged is None else told.append, half))
    except TypeError:
        return _inner_json(_dicts_of_rows(cursor, rows, path, damaged, half, check=True))
    if damaged is not None:
        for error in told:
            damaged(error)
    return text


def _series(points: Iterable[tuple]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    series: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for run_id, name, value, step, timestamp, stage in points:
        series.setdefault(run_id, {}).setdefault(name, []).append(
            {"stage": stage, "step": step, "timestamp": timestamp, "value": float(value)})
    return series


def _without_damaged(pairs: Iterable[tuple[tuple, tuple]], bad: dict[str, DamagedRunError],
                     damaged: Damaged) -> list[tuple[tuple, tuple]]:
    """The (row, its four columns) of the runs not in ``bad``; the others, in listing order,
    are raised (``damaged`` None) or given to ``damaged``."""
    kept = []
    for row, four in pairs:
        error = bad.get(row[0])
        if error is None:
            kept.append((row, four))
        elif damaged is None:
            raise error
        else:
            damaged(error)
    return kept


def _inner_json(dicts: list[dict[str, Any]]) -> str:
    """The JSON text of ``dicts`` without its brackets: ``json.dumps`` of a list is its items'
    texts joined by ", ", so two lists' inner texts joined that way are the text of both."""
    return json.dumps(dicts, allow_nan=True, check_circular=False)[1:-1]


def listed_runs_json(db: sqlite3.Connection, path: Path, query: str, args: list[Any],
                     parallel: bool | None = None, damaged: Damaged = None) -> str:
    """``json.dumps(listed_run_dicts(...))``, the canonical text ``runs list --json`` prints.
    A listing of ``PARALLEL_FROM`` runs or more, when a second core is free (``parallel``
    None: decided so; True or False: told), is made in two halves at once: the older half in
    a forked child (with its own connection to the history at ``path``) that sends its text
    down a pipe, the newer half here. A damaged run in either half has the listing made again
    in one process, where each damaged run is left out and given to ``damaged``."""
    cursor = _tuple_cursor(db)
    with gc_paused():
        rows = cursor.execute(query, args).fetchall()
        if parallel is None:
            parallel = len(rows) >= PARALLEL_FROM and _free_second_core()
        if len(rows) < 2 or not (parallel and _can_fork()):
            return "[" + _listing_text(cursor, rows, path, damaged) + "]"
        half = (len(rows) + 1) // 2
        try:
            with _forked_half(path, rows[half:]) as older:
                newer = _listing_text(cursor, rows[:half], path, None, half=True)
                return "[" + ", ".join(text for text in (newer, older()) if text) + "]"
        except (DamagedRunError, _DamagedHalf):
            return "[" + _listing_text(cursor, rows, path, damaged) + "]"


class _DamagedHalf(Exception):
    """The child found a damaged run in its half."""


def _free_second_core() -> bool:
    """A second core this process may use that the machine's load (the last minute's
    average, this process included) leaves mostly free: on a busy machine a second process
    only competes with the first."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    return cores > 1 and load < cores - 0.5


def _can_fork() -> bool:
    from samepack.bundle.system.children import can_fork

    return can_fork()


@contextmanager
def _forked_half(path: Path, rows: list[tuple]) -> Iterator[Callable[[], str]]:
    """A child making the inner JSON text of ``rows``; yields the function that waits for it
    (the child is killed and reaped however the block ends)."""
    from samepack.bundle.system.children import fork_child, stop_child

    read_end, write_end = os.pipe()
    try:
        pid = fork_child(lambda: _serve_half(path, rows, write_end))
    except BaseException:
        os.close(read_end)
        os.close(write_end)
        raise
    os.close(write_end)
    pipe = io.FileIO(read_end, "rb")

    def received() -> str:
        data = pipe.readall() or b""
        status, payload = data[:1], data[1:]
        if status == b"0":
            return payload.decode("ascii")
        if status == b"2":
            raise _DamagedHalf()
        if status == b"1":
            import pickle

            from samepack.bundle.system.children import revive_error

            raise revive_error(pickle.loads(payload))
        raise ResourceError(f"the process listing the older runs (pid {pid}) ended early",
                            "it was killed (out of memory?); list again, or with --limit")

    try:
        yield received
    finally:
        pipe.close()
        stop_child(pid)


def _serve_half(path: Path, rows: list[tuple], pipe: int) -> int:
    """In the child: the text of ``rows`` (ASCII: json escapes the rest), after a status byte."""
    from samepack.bundle.system.children import describe_error, write_all

    try:
        db = sqlite3.connect(path, timeout=busy_timeout_s())  # never the parent's connection
        text = b"0" + _listing_text(_tuple_cursor(db), rows, path, None, half=True
                                    ).encode("ascii")
    except DamagedRunError:  # the parent lists again, telling of each damaged run
        text = b"2"
    except Exception as error:  # reported to the parent, which raises it
        import pickle

        if isinstance(error, sqlite3.Error):
            error = database_error(path, error) or error
        text = b"1" + pickle.dumps(describe_error(error))
    write_all(pipe, text)
    return 0


def _most_of_history(cursor: sqlite3.Cursor, listed: int) -> bool:
    """Whether ``listed`` runs are at least half the history, by its largest rowid (found in
    the table's B-tree without reading it; never below the number of runs, none are deleted)."""
    if listed == 0:
        return False
    largest = cursor.execute("SELECT MAX(rowid) FROM runs").fetchone()[0] or 0
    return 2 * listed >= largest


def _child_rows(cursor: sqlite3.Cursor, select: str, order: str, ids: list[str],
                whole: bool) -> Iterable[tuple]:
    """The rows of ``select`` for the runs ``ids``: the whole table (rows of runs not listed
    are simply never looked up), else per chunk of ids through the run_id index."""
    if whole:
        yield from cursor.execute(select + order)
        return
    for start in range(0, len(ids), IDS_PER_QUERY):
        chunk = ids[start:start + IDS_PER_QUERY]
        marks = ",".join("?" * len(chunk))
        yield from cursor.execute(f"{select} WHERE run_id IN ({marks}){order}", chunk)


def _run_dict(row: tuple, columns: tuple[Any, ...], steps: list[dict[str, Any]],
              series: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    params, artifacts, host, tags = columns
    metric_series = dict(sorted(series.items()))
    return {  # keys in sorted order: see the module's docstring
        "artifacts": artifacts, "ended_at": row[5], "format": RECORD_FORMAT,
        "git_commit": row[7], "git_dirty": None if row[8] is None else bool(row[8]),
        "host": host, "id": row[0], "lock_digest": row[6], "metric_series": metric_series,
        "metrics": {name: points[-1]["value"] for name, points in metric_series.items()},
        "params": params, "program": row[1], "source": row[9], "started_at": row[4],
        "status": row[3], "steps": steps, "tags": tags, "version": row[2]}
