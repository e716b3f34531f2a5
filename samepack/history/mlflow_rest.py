"""A small client of an MLflow tracking server's REST API (``/api/2.0/mlflow/...``), on
``requests``: samepack reads a team's runs and records its own there without MLflow installed.

Reading: experiments, runs (params, tags, every metric point with its step), artifact listings
(hashed by downloading them through the server). Writing: an experiment by name, a run, its
params, metrics and tags in batches of the sizes the server accepts, its status, and artifact
uploads through the server's artifact proxy (``mlflow-artifacts:`` URIs).
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

from samepack.errors import InputError, RemoteError
from samepack.history.mlflow_source import is_server_uri
from samepack.history.mlflow_sqlite import local_path
from samepack.history.mlflow_store import STATUS, _slug
from samepack.history.records import MetricPoint, RunRecord, iso_from_millis

TIMEOUT_S = 30
PAGE = 1000
# the server's limits for one runs/log-batch call
BATCH_METRICS, BATCH_PARAMS, BATCH_TAGS = 1000, 100, 100
PARAM_VALUE_MAX = 6000
TAG_VALUE_MAX = 8000
TO_MLFLOW_STATUS = {"running": "RUNNING", "succeeded": "FINISHED", "failed": "FAILED",
                    "cancelled": "KILLED"}


@dataclass
class ServerRun:
    run_id: str
    experiment_id: str
    artifact_uri: str


class MlflowServer:
    def __init__(self, url: str) -> None:
        import requests

        self.url = url.rstrip("/")
        self._session = requests.Session()

    # -- transport ---------------------------------------------------------------------------

    def _call(self, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        import requests

        target = f"{self.url}/api/2.0/mlflow/{endpoint}"
        try:
            response = self._session.request(method, target, timeout=TIMEOUT_S, **kwargs)
        except requests.RequestException as error:
            raise RemoteError(f"MLflow server {self.url}: {type(error).__name__}: {error}",
                              "is the tracking server running? check the tracking URI") from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("message") or response.text
            except ValueError:
                detail = response.text
            raise RemoteError(f"MLflow server {self.url}: {endpoint} answered "
                              f"{response.status_code}: {str(detail).strip()[:200]}",
                              "check the tracking URI and the server's log")
        try:
            return response.json() if response.content else {}
        except ValueError:
            raise RemoteError(f"MLflow server {self.url}: {endpoint} did not answer JSON",
                              "is this URL an MLflow tracking server?") from None

    def close(self) -> None:
        self._session.close()

    # -- reading -----------------------------------------------------------------------------

    def experiments(self) -> list[dict[str, Any]]:
        found, token = [], None
        while True:
            body: dict[str, Any] = {"max_results": PAGE, "view_type": "ACTIVE_ONLY"}
            if token:
                body["page_token"] = token
            answer = self._call("POST", "experiments/search", json=body)
            found += answer.get("experiments", [])
            token = answer.get("next_page_token")
            if not token:
                return found

    def _search(self, experiment_ids: list[str], since_ms: int | None) -> Iterator[dict]:
        token = None
        while True:
            body: dict[str, Any] = {"experiment_ids": experiment_ids, "max_results": PAGE,
                                    "run_view_type": "ACTIVE_ONLY",
                                    "order_by": ["attributes.start_time ASC"]}
            if since_ms is not None:
                body["filter"] = f"attributes.start_time >= {int(since_ms)}"
            if token:
                body["page_token"] = token
            answer = self._call("POST", "runs/search", json=body)
            yield from answer.get("runs", [])
            token = answer.get("next_page_token")
            if not token:
                return

    def metric_history(self, run_id: str, key: str) -> list[MetricPoint]:
        points, token = [], None
        while True:
            params: dict[str, Any] = {"run_id": run_id, "metric_key": key, "max_results": 25000}
            if token:
                params["page_token"] = token
            answer = self._call("GET", "metrics/get-history", params=params)
            points += [MetricPoint(value=float(m["value"]), step=int(m.get("step") or 0),
                                   timestamp=int(m["timestamp"]) if m.get("timestamp") else None)
                       for m in answer.get("metrics", [])]
            token = answer.get("next_page_token")
            if not token:
                return sorted(points, key=lambda p: (p.step, p.timestamp or 0, p.value))

    def artifact_listing(self, run_id: str, path: str = "") -> list[dict[str, Any]]:
        """``[{path, size, sha256}]`` of a run's artifacts, each downloaded once to hash it."""
        listing = []
        answer = self._call("GET", "artifacts/list", params={"run_id": run_id, "path": path})
        for item in answer.get("files", []):
            if item.get("is_dir"):
                listing += self.artifact_listing(run_id, item["path"])
            else:
                listing.append({"path": item["path"], "size": int(item.get("file_size") or 0),
                                "sha256": self._artifact_sha256(run_id, item["path"])})
        return sorted(listing, key=lambda a: a["path"])

    def _artifact_sha256(self, run_id: str, path: str) -> str:
        import requests

        digest = hashlib.sha256()
        try:
            with self._session.get(f"{self.url}/get-artifact",
                                   params={"path": path, "run_uuid": run_id},
                                   stream=True, timeout=TIMEOUT_S) as response:
                response.raise_for_status()
                for chunk in response.iter_content(1 << 20):
                    digest.update(chunk)
        except requests.RequestException as error:
            raise RemoteError(f"MLflow server {self.url}: artifact {path} of run {run_id}: "
                              f"{error}", "check the server's artifact store") from None
        return digest.hexdigest()

    def read_runs(self, program: str | None = None, version: str = "0.0.0",
                  since_ms: int | None = None) -> list[RunRecord]:
        """Every live run of every live experiment (started at or after ``since_ms``)."""
        records = []
        for experiment in sorted(self.experiments(), key=lambda e: int(e["experiment_id"])
                                 if str(e["experiment_id"]).isdigit() else 0):
            for run in self._search([experiment["experiment_id"]], since_ms):
                records.append(self._record(run, experiment, program, version))
        return records

    def _record(self, run: dict, experiment: dict, program: str | None, version: str) -> RunRecord:
        info, data = run.get("info", {}), run.get("data", {})
        run_id = info.get("run_id") or info.get("run_uuid")
        tags = {t["key"]: t.get("value", "") for t in data.get("tags", [])}
        tags.update({"mlflow.experiment": str(experiment.get("name", "")),
                     "mlflow.experiment_id": str(experiment.get("experiment_id", ""))})
        series = {m["key"]: self.metric_history(run_id, m["key"])
                  for m in sorted(data.get("metrics", []), key=lambda m: m["key"])}
        return RunRecord(
            id=run_id, program=program or _slug(str(experiment.get("name") or "mlflow")),
            version=version,
            params={p["key"]: p.get("value", "") for p in sorted(data.get("params", []),
                                                                  key=lambda p: p["key"])},
            status=STATUS.get(info.get("status"), "failed"),
            started_at=iso_from_millis(info.get("start_time")),
            ended_at=iso_from_millis(info.get("end_time")),
            metrics={name: points[-1].value for name, points in series.items() if points},
            metric_series={name: points for name, points in series.items() if points},
            artifacts=self.artifact_listing(run_id),
            git_commit=tags.get("mlflow.source.git.commit"), source="mlflow",
            tags=dict(sorted(tags.items())))

    # -- writing -----------------------------------------------------------------------------

    def experiment_id(self, name: str) -> str:
        """The id of the experiment called ``name``, made when there is none."""
        answer = self._call("POST", "experiments/search",
                            json={"max_results": 1, "filter": f"name = '{name}'"})
        for experiment in answer.get("experiments", []):
            if experiment.get("name") == name:
                return str(experiment["experiment_id"])
        return str(self._call("POST", "experiments/create", json={"name": name})["experiment_id"])

    def get_run(self, run_id: str) -> ServerRun:
        info = self._call("GET", "runs/get", params={"run_id": run_id})["run"]["info"]
        return ServerRun(info["run_id"], str(info["experiment_id"]), info.get("artifact_uri", ""))

    def create_run(self, experiment_id: str, name: str, start_ms: int | None,
                   tags: dict[str, str]) -> ServerRun:
        body: dict[str, Any] = {"experiment_id": experiment_id, "run_name": name,
                                "tags": [{"key": k, "value": v[:TAG_VALUE_MAX]}
                                         for k, v in sorted(tags.items())]}
        if start_ms is not None:
            body["start_time"] = int(start_ms)
        info = self._call("POST", "runs/create", json=body)["run"]["info"]
        return ServerRun(info["run_id"], str(info["experiment_id"]), info.get("artifact_uri", ""))

    def log_batch(self, run_id: str, params: dict[str, str] | None = None,
                  metrics: list[tuple[str, MetricPoint]] | None = None,
                  tags: dict[str, str] | None = None) -> None:
        params_list = [{"key": k, "value": str(v)[:PARAM_VALUE_MAX]}
                       for k, v in sorted((params or {}).items())]
        tags_list = [{"key": k, "value": str(v)[:TAG_VALUE_MAX]}
                     for k, v in sorted((tags or {}).items())]
        metrics_list = [{"key": name, "value": p.value, "step": p.step,
                         "timestamp": int(p.timestamp or 0)} for name, p in metrics or []]
        while params_list or tags_list or metrics_list:
            body = {"run_id": run_id, "params": params_list[:BATCH_PARAMS],
                    "tags": tags_list[:BATCH_TAGS], "metrics": metrics_list[:BATCH_METRICS]}
            params_list, tags_list = params_list[BATCH_PARAMS:], tags_list[BATCH_TAGS:]
            metrics_list = metrics_list[BATCH_METRICS:]
            self._call("POST", "runs/log-batch", json=body)

    def finish_run(self, run_id: str, status: str, end_ms: int | None) -> None:
        body: dict[str, Any] = {"run_id": run_id,
                                "status": TO_MLFLOW_STATUS.get(status, "FAILED")}
        if end_ms is not None:
            body["end_time"] = int(end_ms)
        self._call("POST", "runs/update", json=body)

    def upload_artifact(self, run: ServerRun, relative: str, file: Path) -> bool:
        """Put one file among the run's artifacts; False when the server's artifact store is
        neither proxied (``mlflow-artifacts:``) nor a folder on this machine."""
        import requests

        uri = run.artifact_uri
        if uri.startswith("mlflow-artifacts:"):
            rest = uri.partition(":")[2].lstrip("/")
            target = (f"{self.url}/api/2.0/mlflow-artifacts/artifacts/{quote(rest)}/"
                      f"{quote(relative)}")
            try:
                with open(file, "rb") as handle:
                    response = self._session.put(target, data=handle, timeout=TIMEOUT_S)
            except requests.RequestException as error:
                raise RemoteError(f"MLflow server {self.url}: upload of {relative}: {error}",
                                  "check the server's artifact store") from None
            if response.status_code >= 400:
                raise RemoteError(f"MLflow server {self.url}: upload of {relative} answered "
                                  f"{response.status_code}", "check the server's artifact store")
            return True
        directory = local_path(uri)
        if directory is None:
            return False
        (directory / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, directory / relative)
        return True


def check_server_uri(uri: str) -> str:
    if not is_server_uri(uri):
        raise InputError(f"tracking URI {uri!r} is not an http(s) URL of a tracking server",
                         "give http://HOST:PORT of an MLflow server")
    return uri
