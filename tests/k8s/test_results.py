"""The result script every step runs under on a cluster, run here for real as a subprocess:
what it writes as the termination message, and how samepack reads it back."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from samepack.k8s.results import MESSAGE_LIMIT, read_result, result_script, wrap_command
from samepack.program.model import MetricPattern, Step

NUMBER = MetricPattern(r"^(?P<name>[a-z_]+)\s*[:=]\s*(?P<value>[-+]?\d*\.?\d+)\s*$")


def run_step(tmp_path, step: Step, program: str, secrets=(), env=None):
    command = wrap_command(step, [sys.executable, "-c", program], str(tmp_path), list(secrets))
    (tmp_path / "result.py").write_text(result_script())
    log = tmp_path / "termination-log"
    done = subprocess.run([sys.executable, *command[1:]], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {}),
                                           "SAMEPACK_TERMINATION_LOG": str(log)})
    return done, log.read_text()


def test_exit_code_metrics_and_tail_come_back(tmp_path):
    step = Step("train", "python train.py", metrics=[NUMBER])
    done, message = run_step(tmp_path, step, "print('loss: 0.7'); print('loss = 0.4'); "
                                             "print('accuracy: 0.93'); raise SystemExit(4)")
    assert done.returncode == 4 and "accuracy: 0.93" in done.stdout  # output passed through
    result = read_result(message, None)
    assert result.exit_code == 4
    assert result.points == [("loss", 0.7, 0), ("loss", 0.4, 1), ("accuracy", 0.93, 0)]
    assert result.tail == "loss: 0.7\nloss = 0.4\naccuracy: 0.93"


def test_secret_values_never_come_back_in_the_tail(tmp_path):
    step = Step("train", "python train.py")
    done, message = run_step(tmp_path, step, "import os; print('key is', os.environ['STORAGE_KEY'])",
                             secrets=["STORAGE_KEY"], env={"STORAGE_KEY": "s3cr3t-value"})
    assert done.returncode == 0
    assert "s3cr3t-value" not in message and read_result(message, 0).tail == "key is ***"


def test_a_long_output_is_cut_to_what_kubernetes_keeps(tmp_path):
    step = Step("train", "python train.py", metrics=[NUMBER])
    done, message = run_step(tmp_path, step,
                             "for i in range(5000): print(f'step {i} ' + 'x' * 200)\n"
                             "print('accuracy: 0.5')")
    assert done.returncode == 0
    assert len(message.encode()) <= MESSAGE_LIMIT
    result = read_result(message, 0)
    assert result.points == [("accuracy", 0.5, 0)] and result.tail.endswith("accuracy: 0.5")


def test_a_message_that_is_not_samepacks_keeps_the_exit_code():
    assert read_result("OOMKilled", 137).exit_code == 137
    assert read_result("OOMKilled", 137).tail == "OOMKilled"
    assert read_result(json.dumps({"exit": 2, "tail": "t"}), None).exit_code == 2
