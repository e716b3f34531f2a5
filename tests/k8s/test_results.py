"""The result script every step runs under on a cluster, run here for real as a subprocess:
what it writes as the termination message, and how samepack reads it back."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from samepack.k8s.exchange.results import MESSAGE_LIMIT, read_result, result_script, wrap_command
from samepack.program.model import MetricPattern, Step

NUMBER = MetricPattern(r"^(?P<name>[a-z_]+)\s*[:=]\s*(?P<value>[-+]?\d*\.?\d+)\s*$")


def run_step(tmp_path, step: Step, program: str, secrets=(), env=None, cwd=None):
    command = wrap_command(step, [sys.executable, "-c", program], str(tmp_path), list(secrets))
    (tmp_path / "result.py").write_text(result_script())
    log = tmp_path / "termination-log"
    done = subprocess.run([sys.executable, *command[1:]], capture_output=True, text=True,
                          timeout=60, cwd=cwd, env={**os.environ, **(env or {}),
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


def test_output_files_are_named_with_their_sha256_and_the_message_stays_bounded(tmp_path):
    import hashlib

    from samepack.k8s.exchange.results import MAX_OUTPUTS

    workspace = tmp_path / "workspace"
    (workspace / ".venv").mkdir(parents=True)
    (workspace / "unchanged.txt").write_text("here before\n")
    step = Step("train", "python train.py")
    program = ("import pathlib\n"
               "for i in range(30): pathlib.Path(f'out/part-{i:02d}.txt').parent.mkdir(exist_ok=True)"
               " or pathlib.Path(f'out/part-{i:02d}.txt').write_text(str(i) * 50)\n"
               "pathlib.Path('.venv/ignored.txt').write_text('environment, not output')\n")
    done, message = run_step(tmp_path, step, program,
                             env={"SAMEPACK_WORKSPACE": str(workspace)}, cwd=workspace)
    assert done.returncode == 0, done.stderr
    assert len(message.encode()) <= MESSAGE_LIMIT
    result = read_result(message, 0)
    assert len(result.outputs) == MAX_OUTPUTS and result.more_outputs == 30 - MAX_OUTPUTS
    first = result.outputs[0]
    assert (first.path, first.size, first.uploaded) == ("out/part-00.txt", 50, False)
    assert first.sha256 == hashlib.sha256(b"0" * 50).hexdigest()
    assert all(not o.path.startswith((".venv", "unchanged")) for o in result.outputs)


def test_the_pod_uploads_its_outputs_to_the_registry_by_digest(tmp_path, registry):
    import hashlib

    from samepack.k8s.exchange.transfer import open_registry

    exchange = open_registry(f"oci://{registry.host}/results/upload")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    payload = os.urandom(300_000)
    (tmp_path / "payload.bin").write_bytes(payload)
    program = f"import shutil; shutil.copy({str(tmp_path / 'payload.bin')!r}, 'model.bin')"
    done, message = run_step(tmp_path, Step("train", "python train.py"), program, cwd=workspace,
                             env={"SAMEPACK_WORKSPACE": str(workspace),
                                  "SAMEPACK_OUTPUTS_URL": exchange.upload_url})
    assert done.returncode == 0, done.stderr
    [output] = read_result(message, 0).outputs
    assert output.uploaded and output.sha256 == hashlib.sha256(payload).hexdigest()
    try:
        exchange.fetch_file(output.sha256, output.size, tmp_path / "back" / "model.bin")
        assert (tmp_path / "back" / "model.bin").read_bytes() == payload
    finally:
        exchange.close()


def test_a_hostile_report_of_outputs_is_refused_entry_by_entry():
    good = ["model.pkl", 3, "a" * 64, True]
    message = json.dumps({"exit": 0, "more": "lots", "outputs": [
        good, ["../../etc/passwd", 1, "b" * 64, True], ["/abs", 1, "b" * 64, True],
        ["x", -1, "b" * 64, False], ["y", 1, "not-a-digest", False], "junk"]})
    result = read_result(message, 0)
    assert [o.path for o in result.outputs] == ["model.pkl"] and result.more_outputs == 0
    assert len(result.problems) == 5
    assert all(p.startswith("output entry refused: ") for p in result.problems)


def test_an_output_the_registry_cannot_confirm_is_not_recorded(tmp_path, registry):
    import hashlib

    from samepack.history import History
    from samepack.k8s.runs.record import RunRecorder, outputs_dir
    from samepack.k8s.exchange.results import OutputFile, StepResult
    from samepack.k8s.exchange.transfer import open_registry

    exchange = open_registry(f"oci://{registry.host}/results/confirm")
    (tmp_path / "real.bin").write_bytes(b"real bytes")
    real = hashlib.sha256(b"real bytes").hexdigest()
    exchange.push_file(tmp_path / "real.bin", real)
    history, said = History(), []
    try:
        run_id = history.start_run("demo", "1.0", {})
        recorder = RunRecorder(history, run_id, [], said.append, said.append, exchange)
        claimed = hashlib.sha256(b"what the pod claimed").hexdigest()  # no such blob
        recorder.step("train", StepResult(0, outputs=[
            OutputFile("model.bin", 10, real, True), OutputFile("forged.bin", 10, claimed, True),
            OutputFile("big.bin", 10, real, False)]), "succeeded", None, 1.0)
        history.finish_run(run_id, "succeeded")
        record = history.get_run(run_id)
    finally:
        history.close()
        exchange.close()
    assert [a["path"] for a in record.artifacts] == ["big.bin", "model.bin"]
    assert (outputs_dir(run_id) / "model.bin").read_bytes() == b"real bytes"
    assert not (outputs_dir(run_id) / "forged.bin").exists()
    assert any("forged.bin not recorded" in line for line in said)
