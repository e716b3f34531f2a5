"""``samepack run`` as real processes: two at once, and Ctrl-C."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from samepack.history import History
from tests.program.helpers import py, step, write_program

LOGGER = ("import json, os, time\n"
          "for i in range(40):\n"
          "    with open(os.environ['SAMEPACK_METRICS'], 'a') as f:\n"
          "        f.write(json.dumps({'name': 'loss', 'value': 1.0 / (i + 1), 'step': i}) + chr(10))\n"
          "    time.sleep(0.005)\n")


def _samepack(*args: str | Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "samepack", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_two_concurrent_runs_keep_the_history_whole(tmp_path):
    body = ("parameters:\n  tag: {type: str, default: x}\nsteps:\n"
            + step("first", py(LOGGER)) + step("second", py(LOGGER), needs=["first"]))
    path = write_program(tmp_path, body)
    runs = [_samepack("run", "-f", path, f"--tag=run{i}") for i in range(2)]
    outputs = [process.communicate(timeout=120) for process in runs]
    for process, (stdout, stderr) in zip(runs, outputs):
        assert process.returncode == 0, stderr
    records = History().list_runs()
    assert sorted(r.params["tag"] for r in records) == ["run0", "run1"]
    for record in records:
        assert record.status == "succeeded"
        assert [s.name for s in record.steps] == ["first", "second"]
        assert len(record.metric_series["loss"]) == 80
        assert record.metrics["loss"] == pytest.approx(1 / 40)
    database = sqlite3.connect(History().path)
    assert database.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_ctrl_c_cancels_the_run_and_stops_the_step(tmp_path):
    sleeper = ("import os, time\n"
               "open('child.pid', 'w').write(str(os.getpid()))\n"
               "print('sleeping', flush=True)\n"
               "time.sleep(120)\n")
    path = write_program(tmp_path, "steps:\n" + step("nap", py(sleeper))
                         + step("after", py("print(1)"), needs=["nap"]))
    process = _samepack("run", "-f", path)
    deadline = time.monotonic() + 60
    line = ""
    while "sleeping" not in line and time.monotonic() < deadline:
        line = process.stdout.readline()
    assert "[nap] sleeping" in line
    child = int((tmp_path / "child.pid").read_text())
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "cancelled" in stderr and "Traceback" not in stderr
    record = History().list_runs()[0]
    assert record.status == "cancelled"
    assert {s.name: s.status for s in record.steps} == {"nap": "cancelled", "after": "skipped"}
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)  # the step's process is gone too
