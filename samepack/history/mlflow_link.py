"""What a step logs with MLflow reaches samepack's run record, with no change to its code; and
with a team tracking server, every samepack run is an MLflow run there too (once, not twice).

- No tracking URI configured: the steps are pointed at a store of their own run
  (``MLFLOW_TRACKING_URI=sqlite:///$SAMEPACK_HOME/runs/<id>/mlflow.db``); artifacts go where
  MLflow puts them by default (``mlruns/`` in the step's folder).
- A tracking URI configured (``--tracking-uri``, ``SAMEPACK_TRACKING_URI`` or
  ``MLFLOW_TRACKING_URI``): the steps log there as they would without samepack.

After each step the MLflow runs it started are read back (from the store the steps were
given, and from ``mlflow.db``/``mlruns/`` in its folder for code that sets its own URI):
params the program does not declare, every metric point with its step, tags, and artifacts
(as ``mlflow/<path>``). When the run ends and the URI is a tracking server, the MLflow runs
the steps logged there get samepack's tags; only a run whose steps logged nothing to MLflow
becomes a new MLflow run, with samepack's params, metrics, tags and outputs as artifacts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from samepack.console import warn
from samepack.errors import SamepackError
from samepack.history.db import History
from samepack.history.mlflow_source import is_server_uri, read_mlflow, store_path, team_tracking_uri
from samepack.history.records import MetricPoint, RunRecord

if TYPE_CHECKING:
    from samepack.history.mlflow_rest import MlflowServer

SLACK_MS = 1000  # MLflow's clock is the step's; a run started just as the step began counts
RUN_IDS_TAG = "mlflow.run_ids"  # the MLflow runs a samepack run's steps logged (comma list)
SAMEPACK_RUN_TAG = "samepack.run_id"  # on an MLflow run: the samepack run it belongs to
RUN_SCOPED = "run-scoped"  # a tracking URI that means: this run's own store, whatever is set


def without_credentials(uri: str) -> str:
    """A URI fit for the history: no ``user:password@`` part."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _may_hold_runs(local: Path) -> bool:
    """Whether a local store could hold runs: a folder with no experiment's ``meta.yaml`` is
    only where MLflow put artifacts (its default artifact root beside a database), not a store."""
    if not local.exists():
        return False
    return not local.is_dir() or any(local.glob("*/meta.yaml"))


def millis(iso: str | None) -> int | None:
    if not iso:
        return None
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


@dataclass
class MlflowLink:
    """One samepack run's link to MLflow (made by ``link_mlflow`` when the run starts)."""

    run_dir: Path
    step_uri: str  # the MLFLOW_TRACKING_URI the steps were given
    team_uri: str | None  # a configured tracking URI (the user's or the team's), or None
    seen: dict[str, str] = field(default_factory=dict)  # MLflow run id -> store it was read from

    def collect(self, history: History, run_id: str, step: str, cwd: Path,
                started_at: str) -> None:
        """Read back the MLflow runs the step started and add them to samepack's record."""
        since = (millis(started_at) or 0) - SLACK_MS
        for source in self._sources(cwd):
            local = store_path(source, cwd)
            if local is not None and not _may_hold_runs(local):
                continue  # the step logged nothing to MLflow there
            try:
                records = read_mlflow(source, since_ms=since, cwd=cwd)
            except SamepackError as error:
                warn(f"step {step}: MLflow runs in {without_credentials(source)} not read: "
                     f"{error.message}")
                continue
            for record in records:
                if record.id in self.seen or record.tags.get(SAMEPACK_RUN_TAG):
                    continue
                self.seen[record.id] = source
                _merge(history, run_id, step, record)
        if self.seen:
            history.merge_into_run(run_id, tags={RUN_IDS_TAG: ",".join(self.seen)})

    def _sources(self, cwd: Path) -> list[str]:
        sources = [self.step_uri]
        given = store_path(self.step_uri, cwd)
        for local in (cwd / "mlflow.db", cwd / "mlruns"):
            if local.exists() and (given is None or given.resolve() != local.resolve()):
                sources.append(str(local))
        return sources

    def publish(self, history: History, run_id: str) -> None:
        """Record the finished run in the team's tracking server (nothing for other stores)."""
        if not self.team_uri or not is_server_uri(self.team_uri):
            return
        from samepack.history.mlflow_rest import MlflowServer

        server = MlflowServer(self.team_uri)
        try:
            record = history.get_run(run_id)
            logged_there = [mlflow_id for mlflow_id, source in self.seen.items()
                            if source == self.team_uri]
            if logged_there:
                for mlflow_id in logged_there:
                    server.log_batch(mlflow_id, tags=samepack_tags(record))
                return
            created = publish_record(server, record, self.run_dir / "artifacts")
            history.merge_into_run(run_id, tags={RUN_IDS_TAG: ",".join([*self.seen, created])})
        except SamepackError as error:
            warn(f"run {run_id[:8]} not recorded in MLflow at "
                 f"{without_credentials(self.team_uri)}: {error.message}")
        finally:
            server.close()


def link_mlflow(env: dict[str, str], run_dir: Path, explicit_uri: str | None = None) -> MlflowLink:
    """Point the steps' MLflow at the configured tracking URI, or at a store of this run
    (``env`` is the steps' base environment and is changed in place). ``RUN_SCOPED`` as the
    URI ignores any configured one (re-runs of ``reproduce`` never write into the user's
    store)."""
    team = None if explicit_uri == RUN_SCOPED else team_tracking_uri(explicit_uri, env)
    if team:
        env["MLFLOW_TRACKING_URI"] = team
        return MlflowLink(run_dir, team, team)
    uri = f"sqlite:///{run_dir / 'mlflow.db'}"
    env["MLFLOW_TRACKING_URI"] = uri
    # The artifacts stay where MLflow puts a local store's artifacts by default (./mlruns of
    # the step's folder, as without samepack): MLflow has no public setting for a client's
    # artifact root, and its server's private one would put the step under the server's rules
    # for artifact hosts. The reader follows each run's artifact_uri.
    return MlflowLink(run_dir, uri, None)


def _merge(history: History, run_id: str, step: str, record: RunRecord) -> None:
    """Add one MLflow run to the samepack run. A metric point the step also reported to
    samepack (same name, step and value) is not counted twice."""
    known = {(name, p.step, p.value) for name, series in history.get_run(run_id).metric_series.items()
             for p in series if p.stage == step}
    points = [(name, MetricPoint(p.value, p.step, p.timestamp, step))
              for name, series in record.metric_series.items() for p in series
              if (name, p.step, p.value) not in known]
    history.log_metrics(run_id, points)
    tags = {k: v for k, v in record.tags.items() if not k.startswith("mlflow.")}
    for key in ("mlflow.runName", "mlflow.experiment"):
        if key in record.tags:
            tags[key] = record.tags[key]
    artifacts = [{**a, "path": f"mlflow/{a['path']}"} for a in record.artifacts]
    history.merge_into_run(run_id, params=record.params, tags=tags, artifacts=artifacts)


def not_doubled(records: list[RunRecord], history: History) -> list[RunRecord]:
    """MLflow runs that are not already samepack runs here: neither a samepack run recorded in
    MLflow (its ``samepack.run_id`` is in the history) nor a run a samepack step logged."""
    known = history.mlflow_run_ids()
    fresh = []
    for record in records:
        own = record.tags.get(SAMEPACK_RUN_TAG)
        if record.id in known or (own and history.has_run(own)):
            continue
        fresh.append(record)
    return fresh


def samepack_tags(record: RunRecord) -> dict[str, str]:
    """The tags that tie an MLflow run to its samepack run."""
    tags = {SAMEPACK_RUN_TAG: record.id, "samepack.program": record.ref,
            "samepack.status": record.status}
    if record.lock_digest:
        tags["samepack.lock_digest"] = record.lock_digest
    if record.git_commit:
        tags["mlflow.source.git.commit"] = record.git_commit
    if record.tags.get("bundle_digest"):
        tags["samepack.bundle_digest"] = record.tags["bundle_digest"]
    return tags


def publish_record(server: "MlflowServer", record: RunRecord, outputs: Path | None) -> str:
    """Record one samepack run as a new MLflow run (experiment: the program's name); its id."""
    experiment = server.experiment_id(record.program)
    tags = {**{k: str(v) for k, v in record.tags.items() if not k.startswith("mlflow.")},
            **samepack_tags(record), "mlflow.runName": f"{record.program}-{record.id[:8]}",
            "mlflow.source.name": record.ref}
    run = server.create_run(experiment, tags["mlflow.runName"], millis(record.started_at), tags)
    fallback = millis(record.ended_at) or millis(record.started_at) or 0
    points = [(name, MetricPoint(p.value, p.step, p.timestamp or fallback, p.stage))
              for name, series in record.metric_series.items() for p in series]
    server.log_batch(run.run_id, params={k: _text(v) for k, v in record.params.items()},
                     metrics=points)
    for artifact in record.artifacts:
        file = outputs / artifact["path"] if outputs else None
        if file is not None and file.is_file():
            server.upload_artifact(run, artifact["path"], file)
    server.finish_run(run.run_id, record.status, millis(record.ended_at))
    return run.run_id


def _text(value: object) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
