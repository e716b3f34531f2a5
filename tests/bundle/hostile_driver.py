"""Run ``verify``, ``inspect`` and ``import`` on one bundle under an address-space limit, in
this process (one interpreter start per bundle, not three), and print what each did as JSON.

    python hostile_driver.py LIMIT_BYTES BUNDLE '["--as", "x:1"]'

The limit is set before samepack is imported, so it holds for everything the commands do
(the import's child process inherits it). A command that raises anything but the CLI's own
exit is reported with the exception's type: the tests assert there is none.
"""

from __future__ import annotations

import json
import resource
import sys
import time


def main() -> None:
    limit, bundle, import_args = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from click.testing import CliRunner

    from samepack.cli import cli

    report = {}
    for command in (["verify", bundle], ["inspect", bundle], ["import", bundle, *import_args]):
        started = time.monotonic()
        result = CliRunner().invoke(cli, command, catch_exceptions=True, prog_name="samepack")
        raised = result.exception
        report[command[0]] = {
            "exit": result.exit_code, "stdout": result.stdout, "stderr": result.stderr,
            "exception": None if raised is None or isinstance(raised, SystemExit)
            else f"{type(raised).__name__}: {str(raised)[:300]}",
            "seconds": time.monotonic() - started}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
