"""What a cluster run writes into the run history: each step's result (exit code, metric points,
log tail) and its output files as artifacts of ``kind: output``, pulled from the exchange
registry by digest where the pods uploaded them. Shared by a run samepack waits for and by one
collected later (``samepack.k8s.runs.collect``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from samepack.errors import SamepackError
from samepack.history.records import MetricPoint
from samepack.k8s.exchange.results import (
    OUTPUT_FILE_LIMIT, OUTPUT_TOTAL_LIMIT, OutputFile, StepResult, mask,
)
from samepack.k8s.exchange.transfer import ClusterRegistry

Line = Callable[[str], None]
FAILED_TAIL_LINES = 5  # lines of a failed step's tail shown when it is recorded


def outputs_dir(run_id: str) -> Path:
    """Where the output files of a cluster run are kept on this machine."""
    from samepack.paths import samepack_home

    return samepack_home() / "runs" / run_id / "outputs"


@dataclass
class RunRecorder:
    """Writes one cluster run's results as each step's come in; the step's output files are
    recorded with it (a later step's file of the same path replaces an earlier one's), each
    uploaded one first pulled from ``registry`` into ``outputs_dir`` and checked against its
    sha256. One that fails the check is reported and left out: the history keeps no digest it
    could not confirm."""

    history: Any
    run_id: str
    secret_values: list[str]
    on_line: Line
    report: Line
    registry: ClusterRegistry | None = None
    fetched: int = 0  # bytes brought back so far (at most OUTPUT_TOTAL_LIMIT)

    def step(self, step: str, result: StepResult | None, status: str, started: str | None,
             duration: float | None) -> None:
        result = mask(result or StepResult(None), self.secret_values)
        if result.points:
            stamp = int(time.time() * 1000)
            self.history.log_metrics(self.run_id, [
                (name, MetricPoint(value=value, step=index, timestamp=stamp, stage=step))
                for name, value, index in result.points])
        if result.tail and status != "succeeded":
            for line in result.tail.splitlines()[-FAILED_TAIL_LINES:]:
                self.on_line(f"[{step}] {line}")
        for problem in result.problems:
            self.report(f"warning: step {step}: {problem}")
        if result.more_outputs:
            self.report(f"warning: step {step}: {result.more_outputs} more output files than "
                        f"its report has room for were not recorded")
        self.history.record_step(self.run_id, step, result.exit_code, started, duration, status,
                                 log_tail=result.tail or None)
        before = self.fetched
        self._say_not_uploaded(step, result.outputs)
        artifacts = [output.artifact() for output in result.outputs if self._bring_back(output)]
        if artifacts:
            self.history.merge_into_run(self.run_id, artifacts=artifacts)
        if self.fetched > before:
            self.report(f"step {step}: output files brought back to {outputs_dir(self.run_id)}")

    def _say_not_uploaded(self, step: str, outputs: list[OutputFile]) -> None:
        """A pod that had an upload URL but sent a file within the limits could not reach the
        registry (its log says why): the file is named only."""
        if self.registry is None:
            return
        missed = [o.path for o in outputs if not o.uploaded and o.size <= OUTPUT_FILE_LIMIT]
        if missed:
            host = self.registry.registry.host  # type: ignore[attr-defined]
            self.report(f"warning: step {step}: {len(missed)} output files not uploaded to "
                        f"{host} ({missed[0]}, ...), so named only; the pod's log says why (a "
                        f"registry that wants a login: samepack login {host})")

    def _bring_back(self, output: OutputFile) -> bool:
        """Pull an uploaded output file (True when it may be recorded)."""
        if not output.uploaded or self.registry is None:
            return True  # named by the pod only, as a local run names a file it leaves
        if output.size > OUTPUT_FILE_LIMIT or self.fetched + output.size > OUTPUT_TOTAL_LIMIT:
            self.report(f"warning: output {output.path} left in the registry: more than "
                        f"{OUTPUT_FILE_LIMIT} bytes, or more than {OUTPUT_TOTAL_LIMIT} in all")
            return True
        target = outputs_dir(self.run_id) / output.path
        try:
            self.registry.fetch_file(output.sha256, output.size, target)
        except SamepackError as error:
            self.report(f"warning: output {output.path} not recorded: {error.message}")
            return False
        self.fetched += output.size
        return True
