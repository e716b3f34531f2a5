"""Values of a type samepack never writes in a history's rows, found by SQLite's ``typeof()``.

SQLite keeps any value in any column: a BLOB in a TEXT column (``id``, ``status``,
``started_at``…), text that is not a number in an INTEGER or REAL column (``exit_code``,
``duration_s``, a metric's ``step``), NULL in the ``id`` primary key (SQLite allows it in a
key that is not INTEGER). Such a run is reported as a :class:`DamagedRunError` naming the run
(or its rowid, when its id is not text), the table, the column and the fix.

The checks are SQL, one query per table for the runs asked about (per chunk of ids) or for the
whole tables: a listing runs them only when a cheap check of its own found something amiss,
so a sound history costs no work per row here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Iterator

from samepack.errors import ResourceError
from samepack.history.damage import DamagedRunError

TEXT, TEXT_OR_NULL = ("text",), ("text", "null")
INTEGER_OR_NULL, NUMBER_OR_NULL = ("integer", "null"), ("real", "integer", "null")

# What samepack writes in each column: the SQLite types typeof() may give.
TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "runs": {"id": TEXT, "program": TEXT, "version": TEXT, "params": TEXT, "status": TEXT,
             "started_at": TEXT_OR_NULL, "ended_at": TEXT_OR_NULL, "artifacts": TEXT,
             "lock_digest": TEXT_OR_NULL, "git_commit": TEXT_OR_NULL,
             "git_dirty": INTEGER_OR_NULL, "host": TEXT, "source": TEXT, "tags": TEXT},
    "steps": {"seq": ("integer",), "name": TEXT, "exit_code": INTEGER_OR_NULL,
              "started_at": TEXT_OR_NULL, "duration_s": NUMBER_OR_NULL, "status": TEXT},
    # a value that is text and not a number is found (and named) by columns.metric_damage
    "metrics": {"seq": ("integer",), "name": TEXT, "value": ("real", "integer", "text"),
                "step": ("integer",), "timestamp": INTEGER_OR_NULL, "stage": TEXT_OR_NULL},
    "logs": {"step": TEXT, "tail": TEXT},
}
_WANTED = {TEXT: "text", TEXT_OR_NULL: "text or NULL", INTEGER_OR_NULL: "an integer or NULL",
           NUMBER_OR_NULL: "a number or NULL", ("integer",): "an integer",
           ("real", "integer", "text"): "a number"}
_KINDS = {"blob": "a blob", "null": "NULL", "integer": "an integer", "real": "a real number",
          "text": "text"}
IDS_PER_QUERY = 900  # below SQLite's oldest limit on bound parameters (999)


def first_wrong_column(table: str) -> str:
    """SQL naming the first column of a ``table`` row whose value is not of a type samepack
    writes there (NULL when every value is)."""
    cases = " ".join(f"WHEN typeof({column}) NOT IN ({', '.join(map(repr, types))}) "
                     f"THEN '{column}'" for column, types in TYPES[table].items())
    return f"CASE {cases} END"


def row_guarded(table: str, column: str, checked: tuple[str, ...], refused: str) -> str:
    """SQL selecting ``column`` when the row's ``checked`` columns hold types samepack writes
    there, else ``refused``: a value the listing refuses (json.dumps a blob, float() a NULL),
    so that it is made again with every type checked. One condition a row, each column's type
    tested once: SQLite does this in C, a few hundred instructions a row."""
    return f"iif({' AND '.join(map(_type_holds(table), checked))}, {column}, {refused})"


def _type_holds(table: str):
    def holds(column: str) -> str:
        types = TYPES[table][column]
        kinds = [kind for kind in types if kind != "null"]
        test = (f"typeof({column}) = '{kinds[0]}'" if len(kinds) == 1
                else f"typeof({column}) IN ({', '.join(map(repr, kinds))})")
        return f"({column} IS NULL OR {test})" if "null" in types else test
    return holds


def type_damage(db: sqlite3.Connection, path: Path, ids: list[Any] | None
                ) -> dict[Any, DamagedRunError]:
    """The runs ``ids`` (None: every run) with a value of a wrong type in their row or in a
    row of their steps, metrics or output tails, each with its first such value; keyed by
    the run's id as its row holds it (a NULL or blob id too: ``id_damage`` names those)."""
    damaged: dict[Any, DamagedRunError] = {}
    for run_id, rowid, column in _wrong(db, "runs", "id", ids):
        if not isinstance(run_id, str):
            continue  # named by id_damage, by rowid
        damaged.setdefault(run_id, _error(db, path, "runs", rowid, column, run_id))
    for table in ("steps", "metrics", "logs"):
        for run_id, rowid, column in _wrong(db, table, "run_id", ids):
            if run_id not in damaged:
                damaged[run_id] = _error(db, path, table, rowid, column, run_id)
    return damaged


def id_damage(db: sqlite3.Connection, path: Path, rowid: int) -> DamagedRunError:
    """The error of the run at ``rowid`` of ``runs``, whose id is not text (NULL, a blob, a
    number): it cannot be named by id, so it is named by rowid."""
    return _error(db, path, "runs", rowid, "id", None)


def rowid_of(db: sqlite3.Connection, values: dict[str, Any], taken: set[int]) -> int:
    """The rowid of the first row of ``runs`` holding ``values`` (column: value) that is not in
    ``taken`` (two runs may hold the same values, NULL ids alike)."""
    where = " AND ".join(f"{column} IS ?" for column in values)
    for (rowid,) in db.execute(f"SELECT rowid FROM runs WHERE {where} ORDER BY rowid",
                               list(values.values())):
        if rowid not in taken:
            return rowid
    # changed by another process between the listing's read and this one
    raise ResourceError("a run whose id is not text changed while it was listed",
                        "list the runs again")


def _wrong(db: sqlite3.Connection, table: str, key: str, ids: list[Any] | None
           ) -> Iterator[tuple[Any, int, str]]:
    """(run id, rowid, first wrong column) of the rows of ``table`` for ``ids`` (None: all)."""
    select = (f"SELECT {key}, rowid, wrong FROM (SELECT {key}, rowid, "
              f"{first_wrong_column(table)} AS wrong FROM {table}")
    if ids is None:
        yield from db.execute(f"{select}) WHERE wrong IS NOT NULL ORDER BY rowid")
        return
    for start in range(0, len(ids), IDS_PER_QUERY):
        chunk = ids[start:start + IDS_PER_QUERY]
        marks = ",".join("?" * len(chunk))
        yield from db.execute(f"{select} WHERE {key} IN ({marks})) WHERE wrong IS NOT NULL "
                              f"ORDER BY rowid", chunk)


def _error(db: sqlite3.Connection, path: Path, table: str, rowid: int, column: str,
           run_id: str | None) -> DamagedRunError:
    kind, shown = db.execute(f"SELECT typeof({column}), substr(quote({column}), 1, 40) "
                             f"FROM {table} WHERE rowid = ?", (rowid,)).fetchone()
    types = TYPES[table][column]
    value = "" if kind == "null" else f" ({shown})"
    problem = f"holds {_KINDS.get(kind, kind)}{value}, not {_WANTED[types]}"
    where = column if table == "runs" else f"{table} rowid {rowid}: {column}"
    return DamagedRunError(path, run_id, where, problem, _fix(path, table, rowid, column, kind),
                           rowid=rowid if run_id is None else None)


def _fix(path: Path, table: str, rowid: int, column: str, kind: str) -> str:
    """The sqlite3 command that puts a value samepack writes in place of the wrong one."""
    types = TYPES[table][column]
    if table == "metrics":
        change, how = f"DELETE FROM metrics WHERE rowid = {rowid}", "delete that point"
    elif column == "id" and kind == "null":
        change, how = (f"UPDATE runs SET id = lower(hex(randomblob(16))) WHERE rowid = {rowid}",
                       "give it an id")
    elif "text" in types and kind != "null":
        change, how = (f"UPDATE {table} SET {column} = CAST({column} AS TEXT) WHERE rowid = "
                       f"{rowid}", "store it as text")
    elif "null" in types:
        change, how = f"UPDATE {table} SET {column} = NULL WHERE rowid = {rowid}", "clear it"
    else:
        change, how = f"DELETE FROM {table} WHERE rowid = {rowid}", "delete that row"
    return f'{how}: sqlite3 {path} "{change}"'
