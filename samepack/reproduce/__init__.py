"""``samepack reproduce``: re-run a recorded run in an isolated store and compare the results.

``compare`` (verdicts, pure), ``machines`` (what differs between two hosts, pure), ``report``
(JSON / Markdown / tables, pure) and ``session`` (the isolated store, the environment, the
re-runs: the side effects).
"""
