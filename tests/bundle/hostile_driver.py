"""Run ``verify``, ``inspect`` and ``import`` on forged bundles under an address-space limit,
in this process (one interpreter start for a batch of bundles), and print what each command
did as JSON, one report per bundle.

    python hostile_driver.py LIMIT_BYTES JOBS.json

``JOBS.json`` lists ``{"bundle", "home", "cwd", "import_args"}``: each job runs in its own
store (``SAMEPACK_HOME``) and working directory. The limit is set before samepack is imported,
so it holds for everything the commands do (the import's child process inherits it). A
command that raises anything but the CLI's own exit is reported with the exception's type:
the tests assert there is none.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def main() -> None:
    limit, jobs = int(sys.argv[1]), json.loads(open(sys.argv[2]).read())
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from click.testing import CliRunner

    from samepack.cli import cli

    reports = []
    for job in jobs:
        os.environ["SAMEPACK_HOME"] = job["home"]
        os.chdir(job["cwd"])
        report = {}
        for command in (["verify", job["bundle"]], ["inspect", job["bundle"]],
                        ["import", job["bundle"], *job["import_args"]]):
            started = time.monotonic()
            result = CliRunner().invoke(cli, command, catch_exceptions=True,
                                        prog_name="samepack")
            raised = result.exception
            report[command[0]] = {
                "exit": result.exit_code, "stdout": result.stdout, "stderr": result.stderr,
                "exception": None if raised is None or isinstance(raised, SystemExit)
                else f"{type(raised).__name__}: {str(raised)[:300]}",
                "seconds": time.monotonic() - started}
        reports.append(report)
    print(json.dumps(reports))


if __name__ == "__main__":
    main()
