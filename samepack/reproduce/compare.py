"""Comparing a recorded run with its re-runs: metrics (exact or within tolerances) and output
files (sha256). Pure: values in, verdicts out.

A value ``a`` matches the recorded ``b`` when ``|a - b| <= atol + rtol * |b|`` (numpy's
``isclose`` rule; both 0 by default, so exact). Re-runs are first compared among themselves with
the same rule: when they disagree the metric is ``non-deterministic`` — the code gives different
results on the same machine, so a difference from the record says nothing about portability.

Output files are matched by path, with path parts that name a moment (``2026-12-02``,
``12-30-59``: Hydra's run folders) read as one placeholder, since a re-run happens at another
time. Files that record when and where a run ran rather than what it computed are listed, not
compared: log files (they time-stamp their lines; what a step prints is kept with the run anyway)
and Hydra's runtime record ``.hydra/hydra.yaml`` (the run's folder and working directory).
"""

from __future__ import annotations

import fnmatch
import math
import operator
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

Verdict = Literal["match", "mismatch", "missing", "new", "non-deterministic"]
Outcome = Literal["reproduced", "mismatch", "non-deterministic", "failed", "nothing-to-compare"]


@dataclass(frozen=True)
class Tolerance:
    rtol: float = 0.0
    atol: float = 0.0

    def close(self, value: float, reference: float) -> bool:
        if math.isnan(value) or math.isnan(reference):
            return math.isnan(value) and math.isnan(reference)
        if math.isinf(value) or math.isinf(reference):
            return value == reference
        return abs(value - reference) <= self.atol + self.rtol * abs(reference)

    @property
    def exact(self) -> bool:
        return self.rtol == 0 and self.atol == 0


@dataclass
class MetricComparison:
    name: str
    recorded: float | None
    reproduced: list[float | None]  # one value per re-run (None: the re-run did not log it)
    verdict: Verdict

    @property
    def difference(self) -> float | None:
        """The largest |reproduced - recorded| over the re-runs."""
        values = [v for v in self.reproduced if v is not None]
        if self.recorded is None or not values:
            return None
        return max(abs(v - self.recorded) for v in values)


@dataclass
class ArtifactComparison:
    path: str
    recorded: str | None  # sha256
    reproduced: list[str | None]
    verdict: Verdict


@dataclass
class Comparison:
    metrics: list[MetricComparison] = field(default_factory=list)
    artifacts: list[ArtifactComparison] = field(default_factory=list)
    failed_runs: int = 0
    not_compared: list[str] = field(default_factory=list)  # recorded paths listed, not compared

    @property
    def outcome(self) -> Outcome:
        """Failed re-runs first; then re-runs that disagree among themselves (whether or not the
        record has the item); then nothing recorded at all; then any difference from the record."""
        items = [*self.metrics, *self.artifacts]
        verdicts = {item.verdict for item in items}
        if self.failed_runs:
            return "failed"
        if "non-deterministic" in verdicts:
            return "non-deterministic"
        if not any(item.recorded is not None for item in items):
            return "nothing-to-compare"
        if verdicts & {"mismatch", "missing"}:
            return "mismatch"
        return "reproduced"

    def problems(self) -> list[str]:
        """``name: recorded X, reproduced Y`` for everything that did not match."""
        lines = []
        for metric in self.metrics:
            if metric.verdict in {"mismatch", "missing", "non-deterministic"}:
                shown = ", ".join("-" if v is None else repr(v) for v in metric.reproduced)
                lines.append(f"{metric.name}: recorded {metric.recorded!r}, reproduced {shown} "
                             f"({metric.verdict})")
        for artifact in self.artifacts:
            if artifact.verdict in {"mismatch", "missing", "non-deterministic"}:
                lines.append(f"{artifact.path}: sha256 {artifact.verdict}")
        return lines


def _agree(values: list, same: Callable[[Any, Any], bool]) -> bool:
    present = [v for v in values if v is not None]
    if len(present) != len(values):
        return len(present) == 0
    return all(same(v, present[0]) for v in present[1:])


def verdict(recorded: Any, reproduced: list, same: Callable[[Any, Any], bool]) -> Verdict:
    """The verdict for one recorded value and its re-runs' values under ``same``."""
    if not _agree(reproduced, same):
        return "non-deterministic"
    value = reproduced[0] if reproduced else None
    if recorded is None:
        return "new"
    if value is None:
        return "missing"
    return "match" if same(value, recorded) else "mismatch"


def metric_verdict(recorded: float | None, reproduced: list[float | None],
                   tolerance: Tolerance) -> Verdict:
    return verdict(recorded, reproduced, tolerance.close)


def compare_metrics(recorded: dict[str, float], reruns: list[dict[str, float]],
                    tolerance: Tolerance) -> list[MetricComparison]:
    """One comparison per metric name recorded or reproduced, sorted by name."""
    names = sorted(set(recorded) | {name for run in reruns for name in run})
    result = []
    for name in names:
        values = [run.get(name) for run in reruns]
        result.append(MetricComparison(name, recorded.get(name), values,
                                       metric_verdict(recorded.get(name), values, tolerance)))
    return result


_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T_ ]\d{2}[-:.]\d{2}[-:.]\d{2}(?:\.\d+)?)?"
                     r"|\d{2}-\d{2}-\d{2}(?:\.\d+)?|\d{8}[-_T]\d{6}")


def comparable_path(path: str) -> str:
    """``path`` with the parts that name a moment replaced by ``<time>``."""
    return "/".join(_MOMENT.sub("<time>", part) if _MOMENT.fullmatch(part) else part
                    for part in path.split("/"))


BOOKKEEPING = ("*.log", ".hydra/hydra.yaml", "*/.hydra/hydra.yaml")


def compared(artifact: dict) -> bool:
    """Whether an output file's bytes are compared (a run's bookkeeping is only listed)."""
    return not any(fnmatch.fnmatchcase(artifact["path"], pattern) for pattern in BOOKKEEPING)


def _by_path(artifacts: list[dict]) -> dict[str, str | None]:
    return {comparable_path(a["path"]): a.get("sha256") for a in artifacts if compared(a)}


def compare_artifacts(recorded: list[dict], reruns: list[list[dict]]) -> list[ArtifactComparison]:
    """Output files by path (``{path, size, sha256}`` lists), sorted by path."""
    before = _by_path(recorded)
    after = [_by_path(run) for run in reruns]
    result = []
    for path in sorted(set(before) | {path for run in after for path in run}):
        values = [run.get(path) for run in after]
        result.append(ArtifactComparison(path, before.get(path), values,
                                         verdict(before.get(path), values, operator.eq)))
    return result


def compare_runs(recorded_metrics: dict[str, float], recorded_artifacts: list[dict],
                 reruns: list[tuple[dict[str, float], list[dict]]], tolerance: Tolerance,
                 failed_runs: int = 0) -> Comparison:
    """The whole comparison of a record with its re-runs (``(metrics, artifacts)`` each)."""
    return Comparison(metrics=compare_metrics(recorded_metrics, [m for m, _ in reruns], tolerance),
                      artifacts=compare_artifacts(recorded_artifacts, [a for _, a in reruns]),
                      failed_runs=failed_runs,
                      not_compared=sorted(a["path"] for a in recorded_artifacts if not compared(a)))
