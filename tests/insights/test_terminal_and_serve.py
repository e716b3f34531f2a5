"""The terminal views at 80 columns, and the report served on 127.0.0.1 as runs arrive."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import requests

from samepack.history import History

LONG = {f"parameter_{i}": 0.123456789 * (i + 1) for i in range(6)}


def _runs() -> list[str]:
    history = History()
    ids = []
    for value in (0.5, 0.75):
        run_id = history.start_run("a-program-with-a-rather-long-name", "2024.10.1",
                                   {**LONG, "alpha": value})
        history.log_metric(run_id, "validation_accuracy", 0.912345678 + value)
        history.log_metric(run_id, "loss", 1 - value)
        history.finish_run(run_id, "succeeded")
        ids.append(run_id)
    history.close()
    return ids


def test_list_and_compare_at_80_columns(samepack):
    ids = _runs()
    shown = samepack("runs", "list", env={"COLUMNS": "80"})
    assert shown.exit_code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    text = shown.stdout
    # every shown name=value is whole on its line (elided with … at worst, never folded)
    for line in lines:
        for cell in re.findall(r"\b(\w+=\S+)", line):
            name, _, value = cell.partition("=")
            assert value.endswith("…") or re.fullmatch(r"[-+.\w]+", value), cell
    assert "(+3 more)" in text  # 7 params: 4 shown, the rest counted
    assert all(run_id[:8] in text for run_id in ids)
    assert "loss=0.25" in text and "loss=0.5" in text

    compared = samepack("runs", "compare", ids[0][:8], ids[1][:8], env={"COLUMNS": "80"})
    assert compared.exit_code == 0, compared.stderr
    rows = {line.split()[1] if line.startswith(" *") else line.split()[0]: line
            for line in compared.stdout.splitlines() if "param." in line or "metric." in line}
    assert rows["param.alpha"].lstrip().startswith("*")
    assert rows["metric.loss"].lstrip().startswith("*")
    assert not rows["param.parameter_0"].lstrip().startswith("*")
    assert "3 of 9 values differ (marked *)" in compared.stderr  # alpha and both metrics


def test_serve_refreshes_as_runs_arrive(tmp_path, samepack_home):
    _runs()
    process = subprocess.Popen(
        [sys.executable, "-m", "samepack", "runs", "report", "--serve", "--port", "0"],
        env={**os.environ, "SAMEPACK_HOME": str(samepack_home)}, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    try:
        line = process.stderr.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        page = requests.get(url, timeout=30)
        assert page.status_code == 200 and '"live":true' in page.text
        assert page.text.count('"program":"a-program-with-a-rather-long-name"') == 2
        before = requests.get(url + "version", timeout=10).text
        history = History()
        run_id = history.start_run("newcomer", "1.0", {})
        history.close()
        after = requests.get(url + "version", timeout=10).text
        assert after != before
        assert '"program":"newcomer"' in requests.get(url, timeout=30).text
        assert requests.get(url + "nothing", timeout=10).status_code == 404
        assert run_id
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0
