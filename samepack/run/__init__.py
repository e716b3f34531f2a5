"""Running programs on this machine: ``run_local(RunRequest(...)) -> RunRecord``;
parameter overrides in ``samepack.run.params``, datasets in ``samepack.run.datasets``,
the resource preflight in ``samepack.run.preflight``."""

from samepack.run.local import RunRequest, run_local

__all__ = ["RunRequest", "run_local"]
