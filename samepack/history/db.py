"""The run history: one SQLite database (``history.sqlite`` in the store), WAL mode.

Many runs may write at once (two ``samepack run`` processes): each write is one short
``BEGIN IMMEDIATE`` transaction and ``busy_timeout`` makes the others wait their turn.
Contract used by bundles and ``reproduce``: ``start_run``, ``record_step``, ``log_metric``,
``finish_run``, ``list_runs``, ``get_run`` (unique id prefixes accepted), ``export_runs`` and
``import_runs`` (idempotent by run id).

A damaged history is never changed: every public method raises SQLite's errors as one-line
errors naming the file (:mod:`samepack.history.damage`), and a run whose rows are not what
samepack writes as a ``DamagedRunError`` (:mod:`samepack.history.columns` for the JSON columns,
:mod:`samepack.history.rowtypes` for a value's type); listings can leave such runs out
instead.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Iterator

from samepack.errors import InputError, NotFoundError
from samepack.history.columns import decoded_column
from samepack.history.damage import DamagedRunError, busy_timeout_s, move_aside, translated
from samepack.history.listing import RUN_COLUMNS, Damaged, listed_run_dicts, listed_runs_json
from samepack.history.reading import records_of_rows
from samepack.history.rowtypes import id_damage
from samepack.history.records import MetricPoint, RunRecord, utc_now
from samepack.paths import samepack_home

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, program TEXT NOT NULL, version TEXT NOT NULL, params TEXT NOT NULL,
    status TEXT NOT NULL, started_at TEXT, ended_at TEXT, artifacts TEXT NOT NULL DEFAULT '[]',
    lock_digest TEXT, git_commit TEXT, git_dirty INTEGER, host TEXT NOT NULL DEFAULT '{}',
    source TEXT NOT NULL DEFAULT 'samepack', tags TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS runs_program ON runs (program, version, started_at);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
CREATE INDEX IF NOT EXISTS runs_program_started ON runs (program, started_at);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL REFERENCES runs(id), seq INTEGER NOT NULL, name TEXT NOT NULL,
    exit_code INTEGER, started_at TEXT, duration_s REAL, status TEXT NOT NULL,
    PRIMARY KEY (run_id, seq));
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL REFERENCES runs(id), seq INTEGER NOT NULL, name TEXT NOT NULL,
    value REAL NOT NULL, step INTEGER NOT NULL DEFAULT 0, timestamp INTEGER, stage TEXT,
    PRIMARY KEY (run_id, seq));
CREATE TABLE IF NOT EXISTS logs (
    run_id TEXT NOT NULL REFERENCES runs(id), step TEXT NOT NULL, tail TEXT NOT NULL,
    PRIMARY KEY (run_id, step));
"""
_SCHEMA_OBJECTS = frozenset(re.findall(r"IF NOT EXISTS (\w+)", SCHEMA))
SCHEMA_VERSION = 1  # PRAGMA user_version; bump and migrate in __init__ when tables change


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _stored(value: float) -> float | str:
    """SQLite turns NaN into NULL: it is kept as the text 'NaN' (the column's affinity leaves
    text that is not a number as text) and read back as a float."""
    return "NaN" if value != value else value


def _merged(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Artifact listings joined by path (``new`` wins), sorted by path."""
    by_path = {a["path"]: a for a in old}
    by_path.update({a["path"]: a for a in new})
    return [by_path[path] for path in sorted(by_path)]


def _listing_query(columns: str, program: str | None, limit: int | None,
                   version: str | None) -> tuple[str, list[Any]]:
    """The runs of a listing, newest first (in the order the indexes keep)."""
    clauses, args = [], []
    if program:
        clauses.append("program = ?")
        args.append(program)
    if version:
        clauses.append("version = ?")
        args.append(version)
    query = f"SELECT {columns} FROM runs"
    if clauses:
        query += " WHERE " + " AND ".join(clauses)
    query += " ORDER BY started_at DESC, rowid DESC"
    if limit:
        query += f" LIMIT {int(limit)}"
    return query, args


class History:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else samepack_home() / "history.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._open(busy_timeout_s())

    @translated
    def _open(self, timeout: float) -> None:
        self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                   check_same_thread=False)
        try:
            self._prepare(timeout)
        except BaseException:
            self._db.close()
            raise

    def _prepare(self, timeout: float) -> None:
        self._db.row_factory = sqlite3.Row
        self._db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        in_place = self._schema_in_place()
        if not in_place:
            self._check_format()  # before WAL mode is set: that writes to the file
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        if in_place:
            return  # tables and indexes made before: no write transaction at every open
        with self._write() as db:
            self._check_format()  # again: another process may have made it meanwhile
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _check_format(self) -> None:
        """Refuse a history of a newer samepack, and a database that is not a history (a
        samepack before formats were numbered made a ``runs`` table: it is one)."""
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise InputError(f"{self.path}: run history format {version} is newer than this "
                             f"samepack reads ({SCHEMA_VERSION})", "upgrade samepack")
        names = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master")}
        if version == 0 and names and "runs" not in names:
            shown = ", ".join(sorted(names)[:3])
            raise InputError(f"{self.path}: not a samepack run history (a SQLite database "
                             f"with other tables: {shown})", move_aside(self.path))

    def _schema_in_place(self) -> bool:
        """This format, with every table and index of ``SCHEMA`` (an index added to SCHEMA
        later is made at the next open of an older history)."""
        if self._db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            return False
        present = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master")}
        return _SCHEMA_OBJECTS <= present

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction, taken immediately so writers queue instead of failing."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            if self._db.in_transaction:  # SQLite ends it itself after some errors (a full disk)
                with suppress(sqlite3.Error):  # the error that got here is the one to report
                    self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- writing a run -------------------------------------------------------------------------

    @translated
    def start_run(self, program: str, version: str, params: dict[str, Any], *,
                  lock_digest: str | None = None, git_commit: str | None = None,
                  git_dirty: bool | None = None, host: dict[str, Any] | None = None,
                  tags: dict[str, str] | None = None, run_id: str | None = None) -> str:
        """Record a new running run; returns its id (uuid4 hex)."""
        run_id = run_id or uuid.uuid4().hex
        with self._write() as db:
            db.execute("INSERT INTO runs (id, program, version, params, status, started_at, "
                       "lock_digest, git_commit, git_dirty, host, tags) "
                       "VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)",
                       (run_id, program, version, _dumps(params), utc_now(), lock_digest,
                        git_commit, None if git_dirty is None else int(git_dirty),
                        _dumps(host or {}), _dumps(tags or {})))
        return run_id

    @translated
    def record_step(self, run_id: str, name: str, exit_code: int | None, started_at: str | None,
                    duration_s: float | None, status: str, log_tail: str | None = None) -> None:
        """One finished (or skipped) step, with the tail of what it printed."""
        with self._write() as db:
            seq = db.execute("SELECT COUNT(*) FROM steps WHERE run_id = ?", (run_id,)).fetchone()[0]
            db.execute("INSERT INTO steps VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (run_id, seq, name, exit_code, started_at, duration_s, status))
            if log_tail is not None:
                db.execute("INSERT OR REPLACE INTO logs VALUES (?, ?, ?)", (run_id, name, log_tail))

    def log_metric(self, run_id: str, name: str, value: float, step: int = 0,
                   timestamp: int | None = None, stage: str | None = None) -> None:
        self.log_metrics(run_id, [(name, MetricPoint(float(value), int(step), timestamp, stage))])

    @translated
    def log_metrics(self, run_id: str, points: list[tuple[str, MetricPoint]]) -> None:
        """Append many metric points in one transaction (in the given order)."""
        if not points:
            return
        with self._write() as db:
            seq = db.execute("SELECT COUNT(*) FROM metrics WHERE run_id = ?", (run_id,)).fetchone()[0]
            db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(run_id, seq + i, name, _stored(p.value), p.step, p.timestamp, p.stage)
                            for i, (name, p) in enumerate(points)])

    @translated
    def finish_run(self, run_id: str, status: str, artifacts: list[dict[str, Any]] | None = None) -> None:
        """Close the run; ``artifacts`` join those recorded while it ran (same path: replaced)."""
        with self._write() as db:
            db.execute("UPDATE runs SET status = ?, ended_at = ?, artifacts = ? WHERE id = ?",
                       (status, utc_now(), _dumps(_merged(self._column(db, run_id, "artifacts"),
                                                          artifacts or [])), run_id))

    @translated
    def merge_into_run(self, run_id: str, params: dict[str, Any] | None = None,
                       tags: dict[str, str] | None = None,
                       artifacts: list[dict[str, Any]] | None = None) -> None:
        """Add what a step's own tracking recorded: params the run does not have yet (the
        program's declared values win), tags (replacing the same names) and artifacts."""
        with self._write() as db:
            merged_params = {**(params or {}), **self._column(db, run_id, "params")}
            merged_tags = {**self._column(db, run_id, "tags"), **(tags or {})}
            db.execute("UPDATE runs SET params = ?, tags = ?, artifacts = ? WHERE id = ?",
                       (_dumps(merged_params), _dumps(merged_tags),
                        _dumps(_merged(self._column(db, run_id, "artifacts"), artifacts or [])),
                        run_id))

    def _column(self, db: sqlite3.Connection, run_id: str, column: str) -> Any:
        """One JSON column of a run (empty when there is no such run)."""
        row = db.execute(f"SELECT {column} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return [] if column == "artifacts" else {}
        return decoded_column(self.path, run_id, column, row[0])

    # -- reading -------------------------------------------------------------------------------

    @translated
    def resolve_id(self, prefix: str) -> str:
        """The full run id for a unique prefix."""
        if not prefix or any(c not in "0123456789abcdef-" for c in prefix.lower()):
            raise InputError(f"run id {prefix!r} is not a hex id", "see samepack runs list")
        # GLOB, not LIKE: case-sensitive, so SQLite finds the prefix in the id index instead
        # of reading every run (ids are lowercase hex; the prefix holds no wildcard).
        rows = self._db.execute("SELECT id FROM runs WHERE id GLOB ? LIMIT 3",
                                (prefix.lower() + "*",)).fetchall()
        if not rows:
            self._raise_if_stored_not_as_text(prefix.lower())
            raise NotFoundError(f"no run with id {prefix}", "see samepack runs list")
        if len(rows) > 1:
            raise InputError(f"run id prefix {prefix} is ambiguous", "give more characters of the id")
        return rows[0]["id"]

    def _raise_if_stored_not_as_text(self, prefix: str) -> None:
        """A run whose id starts so but is stored as a blob (GLOB never matches one): its
        damage is the answer, not "no run" (read only when no text id matched)."""
        row = self._db.execute("SELECT rowid FROM runs WHERE typeof(id) NOT IN ('text', 'null') "
                               "AND CAST(id AS TEXT) GLOB ? LIMIT 1", (prefix + "*",)).fetchone()
        if row is not None:
            raise id_damage(self._db, self.path, row[0])

    @translated
    def change_marker(self) -> str:
        """A short text that changes whenever a run starts, gets a step or metric, or ends."""
        row = self._db.execute(
            "SELECT (SELECT COUNT(*) FROM runs), (SELECT MAX(COALESCE(ended_at, started_at)) "
            "FROM runs), (SELECT COUNT(*) FROM steps), (SELECT COUNT(*) FROM metrics), "
            "(SELECT group_concat(status) FROM runs)").fetchone()
        return hashlib.sha256(repr(tuple(row)).encode()).hexdigest()[:16]

    @translated
    def has_run(self, run_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None

    @translated
    def mlflow_run_ids(self) -> set[str]:
        """The MLflow runs that samepack runs' steps logged (tag ``mlflow.run_ids``)."""
        ids: set[str] = set()
        for run_id, text, rowid in self._db.execute(
                "SELECT id, tags, rowid FROM runs WHERE instr(tags, 'mlflow.run_ids')"):
            try:
                value = decoded_column(self.path, run_id, "tags", text).get("mlflow.run_ids")
            except DamagedRunError:
                if type(run_id) is not str:  # a NULL or blob id: the run is named by rowid
                    raise id_damage(self._db, self.path, rowid) from None
                raise
            ids.update(part for part in (value or "").split(",") if part)
        return ids

    @translated
    def get_run(self, run_id: str) -> RunRecord:
        row = self._db.execute("SELECT *, rowid FROM runs WHERE id = ?",
                               (self.resolve_id(run_id),)).fetchone()
        return records_of_rows(self._db, self.path, [row])[0]

    @translated
    def list_runs(self, program: str | None = None, limit: int | None = None,
                  version: str | None = None, damaged: Damaged = None) -> list[RunRecord]:
        """Runs, newest first; a damaged run is left out and given to ``damaged`` (None:
        raised)."""
        query, args = _listing_query("*, rowid", program, limit, version)
        return records_of_rows(self._db, self.path, self._db.execute(query, args).fetchall(),
                               damaged)

    @translated
    def list_run_dicts(self, program: str | None = None, limit: int | None = None,
                       version: str | None = None, damaged: Damaged = None) -> list[dict[str, Any]]:
        """``[r.to_dict() for r in list_runs(...)]``, built straight from the rows (what
        ``runs list --json`` prints), every dict with its keys in sorted order at every depth:
        see :mod:`samepack.history.listing`."""
        query, args = _listing_query(RUN_COLUMNS, program, limit, version)
        return listed_run_dicts(self._db, self.path, query, args, damaged)

    @translated
    def list_runs_json(self, program: str | None = None, limit: int | None = None,
                       version: str | None = None, parallel: bool | None = None,
                       damaged: Damaged = None) -> str:
        """The JSON text of ``list_run_dicts(...)`` (``json.dumps`` with NaN allowed), made in
        two processes at once for a long listing: see :mod:`samepack.history.listing`."""
        query, args = _listing_query(RUN_COLUMNS, program, limit, version)
        return listed_runs_json(self._db, self.path, query, args, parallel, damaged)

    # -- moving runs between stores ------------------------------------------------------------

    @translated
    def export_runs(self, program: str, version: str | None, selector: str | list[str]) -> list[dict[str, Any]]:
        """Records for a bundle: ``"none"``, ``"last:N"``, ``"all"`` or explicit ids (a list or
        comma-separated), oldest first, then by id."""
        if selector == "none" or not selector:
            return []
        if isinstance(selector, str) and selector != "all" and not selector.startswith("last:"):
            selector = [part.strip() for part in selector.split(",") if part.strip()]
        if isinstance(selector, list):
            records = [self.get_run(run_id) for run_id in selector]
        elif selector.startswith("last:"):
            count = selector.partition(":")[2]
            if not count.isdigit():
                raise InputError(f"run selector {selector!r}: N must be a number", "use last:3")
            # only the newest N are read: an older damaged run does not stop the export
            newest = int(count)
            records = self.list_runs(program, limit=newest, version=version) if newest else []
        else:
            records = self.list_runs(program, version=version)
        records.sort(key=lambda r: (r.started_at or "", r.id))
        return [r.to_dict() for r in records]

    @translated
    def import_runs(self, records: list[dict[str, Any]]) -> int:
        """Add records not present yet (by id); returns how many were added."""
        added = 0
        for data in records:
            record = RunRecord.from_dict(data)
            if self._db.execute("SELECT 1 FROM runs WHERE id = ?", (record.id,)).fetchone():
                continue
            self._insert(record)
            added += 1
        return added

    def _insert(self, r: RunRecord) -> None:
        with self._write() as db:
            if db.execute("SELECT 1 FROM runs WHERE id = ?", (r.id,)).fetchone():
                return
            db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (r.id, r.program, r.version, _dumps(r.params), r.status, r.started_at,
                        r.ended_at, _dumps(r.artifacts), r.lock_digest, r.git_commit,
                        None if r.git_dirty is None else int(r.git_dirty), _dumps(r.host),
                        r.source, _dumps(r.tags)))
            db.executemany("INSERT INTO steps VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(r.id, i, s.name, s.exit_code, s.started_at, s.duration_s, s.status)
                            for i, s in enumerate(r.steps)])
            db.executemany("INSERT OR REPLACE INTO logs VALUES (?, ?, ?)",
                           [(r.id, s.name, s.log_tail) for s in r.steps if s.log_tail is not None])
            points = [(name, p) for name, series in r.metric_series.items() for p in series]
            if not points:  # a record with only last values
                points = [(name, MetricPoint(value)) for name, value in r.metrics.items()]
            db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(r.id, i, name, _stored(p.value), p.step, p.timestamp, p.stage)
                            for i, (name, p) in enumerate(points)])
