"""Running programs on this machine: ``run_local(RunRequest(...)) -> RunRecord`` in
``samepack.run.local``; parameter overrides in ``samepack.run.params``, datasets in
``samepack.run.datasets``, the resource preflight in ``samepack.run.preflight``.

The package itself imports nothing: a module that needs one small part of it (the export's
renderer reads ``samepack.run.outputs``) does not load the whole runner."""
