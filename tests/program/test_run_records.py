"""What a run records of code written without samepack in mind: the numbers it prints (by the
step's metrics patterns), the files it makes in its working directory, the tail of its output,
and that `run -f` registers the program so export finds it; what runs made stays out of the
bundle's code part."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from samepack.history import History
from tests.program.helpers import last_run, py, step, write_program



PRINTS = ("import random\n"
          "for epoch in range(3):\n"
          "    print(f'epoch {epoch} loss = {1 / (epoch + 1):.4f}')\n"
          "print('accuracy: 0.9375')\n"
          "print('not a number: abc')\n")


def test_printed_numbers_become_metrics_by_pattern(samepack, tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    (project / "train.py").write_text(PRINTS)
    body = ("steps:\n  train:\n    run: python train.py\n    metrics:\n"
            "      - pattern: 'loss = (?P<value>\\S+)'\n        name: loss\n"
            "      - pattern: '^(?P<name>[a-z ]+): (?P<value>[-+0-9.eE]+)$'\n")
    result = samepack("run", "-f", write_program(project, body))
    assert result.exit_code == 0, result.stderr
    record = last_run()
    assert record.metrics == {"accuracy": 0.9375, "loss": 0.3333}
    assert [(p.step, p.value) for p in record.metric_series["loss"]] == [(0, 1.0), (1, 0.5), (2, 0.3333)]
    assert record.metric_series["accuracy"][0].stage == "train"


def test_a_bad_metrics_pattern_is_refused_when_loaded(samepack, tmp_path):
    body = "steps:\n  train:\n    run: python -V\n    metrics:\n      - pattern: 'acc: (\\d+'\n"
    result = samepack("run", "-f", write_program(tmp_path, body))
    assert result.exit_code != 0 and "steps.train.metrics[0].pattern" in result.stderr.replace(
        ".metrics.0.", ".metrics[0].")
    assert "not a valid regular expression" in result.stderr and "Traceback" not in result.stderr
    unnamed = "steps:\n  train:\n    run: python -V\n    metrics:\n      - pattern: '(?P<value>\\d+)'\n"
    result = samepack("run", "-f", write_program(tmp_path, unnamed))
    assert result.exit_code != 0 and "no (?P<name>...) group and the entry no 'name'" in result.stderr


WRITES = ("import os, pathlib\n"
          "pathlib.Path('model.txt').write_text('weights 1 2 3')\n"
          "run = pathlib.Path('outputs/2026-12-02/10-11-12')\n"
          "(run / '.hydra').mkdir(parents=True, exist_ok=True)\n"
          "(run / '.hydra' / 'config.yaml').write_text('alpha: 1')\n"
          "(run / 'train.log').write_text('a log line')\n"
          "pathlib.Path('mlruns/0').mkdir(parents=True, exist_ok=True)\n"
          "pathlib.Path('mlruns/0/meta.yaml').write_text('x')\n"
          "pathlib.Path('.samepack').mkdir(exist_ok=True)\n"
          "pathlib.Path('.samepack/cache.bin').write_text('x')\n"
          "print('SEEDS', os.environ['PYTHONHASHSEED'], os.environ['SOURCE_DATE_EPOCH'])\n")


def test_files_a_run_makes_are_its_outputs_and_not_the_bundles_code(samepack, tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    (project / "train.py").write_text(WRITES)
    (project / "mlflow.db").write_bytes(b"SQLite format 3\0 from an earlier run by hand")
    path = write_program(project, "steps:\n" + step("train", "python train.py"))
    result = samepack("run", "-f", path)
    assert result.exit_code == 0, result.stderr
    assert "registered demo:1.0" in result.stderr
    assert "[train] SEEDS 0 315532800" in result.stdout
    outputs = {a["path"]: a for a in last_run().artifacts if a.get("kind") == "output"}
    assert set(outputs) == {"model.txt", "outputs/2026-12-02/10-11-12/.hydra/config.yaml",
                            "outputs/2026-12-02/10-11-12/train.log"}
    import hashlib

    assert outputs["model.txt"]["sha256"] == hashlib.sha256(b"weights 1 2 3").hexdigest()
    shown = samepack("runs", "show", last_run().id[:8])
    assert "model.txt" in shown.stdout and "working directory" in shown.stdout

    # a second run that changes nothing records nothing new... except what it rewrites
    again = samepack("run", "-f", path)
    assert again.exit_code == 0 and "registered demo:1.0" in again.stderr

    bundle = tmp_path / "demo.tgz"
    exported = samepack("export", "program", "-n", "demo", "-o", bundle)
    assert exported.exit_code == 0, exported.stderr
    with tarfile.open(bundle) as tar:
        code = {name[len("code/"):] for name in tar.getnames() if name.startswith("code/")}
        runs = [json.loads(line) for line in
                tar.extractfile("metadata/runs.jsonl").read().decode().splitlines()]
    assert code == {"train.py", "samepack.yaml"}  # samepack.yaml: in the program part
    assert {a["path"] for a in runs[-1]["artifacts"]} >= {"model.txt"}


def test_failed_step_output_tail_is_kept_and_shown(samepack, tmp_path):
    code = "import sys\nfor i in range(100): print('line', i)\nsys.exit('the data file is empty')"
    (tmp_path / "fail.py").write_text(code)
    result = samepack("run", "-f", write_program(tmp_path, "steps:\n" + step("fit", "python fail.py")))
    assert result.exit_code != 0
    record = last_run()
    assert record.steps[0].log_tail.splitlines()[-1] == "the data file is empty"
    assert len(record.steps[0].log_tail.splitlines()) == 101
    shown = samepack("runs", "show", record.id[:8])
    assert "output of step fit (failed), last 60 line(s)" in shown.stderr
    assert "the data file is empty" in shown.stdout and "  line 41\n" in shown.stdout
    assert "  line 40\n" not in shown.stdout
    log = Path(record.id and History().path.parent / "runs" / record.id / "logs" / "fit.log")
    assert log.read_text().count("\n") == 101


def test_the_projects_own_package_imports_in_a_step_run_from_a_subfolder(samepack, tmp_path):
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("ANSWER = 42\n")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "go.py").write_text("import mypkg\nprint('ANSWER', mypkg.ANSWER)\n")
    body = "steps:\n" + step("go", "python go.py", workdir="scripts")
    result = samepack("run", "-f", write_program(tmp_path, body))
    assert result.exit_code == 0, result.stderr
    assert "[go] ANSWER 42" in result.stdout


def test_run_file_registration_refuses_a_name_taken_by_another_file(samepack, tmp_path):
    first = write_program(tmp_path / "a", "steps:\n" + step("x", py("print(1)")))
    other = write_program(tmp_path / "b", "steps:\n" + step("x", py("print(2)")))
    assert samepack("run", "-f", first).exit_code == 0
    refused = samepack("run", "-f", other)
    assert refused.exit_code != 0 and "already registered with different content" in refused.stderr
    assert "change metadata.version" in refused.stderr
    listed = samepack("programs", "--json")
    assert [e["name"] for e in json.loads(listed.stdout)] == ["demo"]


def test_a_declared_data_file_that_is_missing_stops_the_run_before_any_step(samepack, tmp_path):
    body = ("datasets:\n  wine: {path: data/wine.csv, sha256: '" + "0" * 64 + "', size: 10}\n"
            "steps:\n" + step("train", py("open('ran', 'w')")))
    result = samepack("run", "-f", write_program(tmp_path, body))
    assert result.exit_code != 0 and "dataset wine: cannot get" in result.stderr
    assert "data/wine.csv" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "ran").exists()


NOTEBOOK = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
    {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
     "source": ["import time\n", "values = [1, 2, 3]\n", "sum(values) * 7"]},
    {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
     "source": ["print('at', time.strftime('%H:%M:%S'), object())\n", "print('done')"]},
]}


def test_notebook_cells_show_their_last_value_and_their_outputs_are_recorded(samepack, tmp_path):
    (tmp_path / "nb.ipynb").write_text(json.dumps(NOTEBOOK))
    body = "steps:\n" + step("nb", "python", notebook="nb.ipynb")
    path = write_program(tmp_path, body)
    first = samepack("run", "-f", path)
    assert first.exit_code == 0, first.stderr
    assert "[nb] 42" in first.stdout  # the value of the first cell's last expression
    cells = {a["path"]: a for a in last_run().artifacts if a.get("kind") == "cell"}
    assert set(cells) == {"nb.ipynb#cell-1", "nb.ipynb#cell-2"}
    import time

    time.sleep(1.1)  # another time of day, another object address
    assert samepack("run", "-f", path).exit_code == 0
    again = {a["path"]: a for a in last_run().artifacts if a.get("kind") == "cell"}
    assert again["nb.ipynb#cell-2"]["sha256"] == cells["nb.ipynb#cell-2"]["sha256"]
    shown = samepack("runs", "show", last_run().id[:8])
    assert "notebook cell output" in shown.stdout


def test_comparable_text_blanks_what_changes_by_itself():
    from samepack.run.cells import comparable_text

    text = ("Date: Wed, 02 Dec 2026  Time: 06:45:12  <object at 0x7f3a2b1c9d80>  took 1.25 s\n"
            "R2: 0.9876 on 2026-12-02 after 30 trials")
    assert comparable_text(text) == ("Date: <date>  Time: <time>  <object at 0x…>  took "
                                     "<duration>\nR2: 0.9876 on <date> after 30 trials")


def test_timeout_is_for_cluster_runs(samepack, tmp_path):
    result = samepack("run", "-f", write_program(tmp_path, "steps:\n" + step("x", "python -V")),
                      "--timeout", "5")
    assert result.exit_code == 3 and "--timeout: applies to --target k8s" in result.stderr


SECRET_NOTEBOOK = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
    {"cell_type": "code", "metadata": {"tags": ["same_step_0"]}, "outputs": [],
     "execution_count": None,
     "source": ["import os\n", "token = os.environ['API_TOKEN']\n", "print('using', token)\n",
                "token"]},
    {"cell_type": "code", "metadata": {"tags": ["same_step_1"]}, "outputs": [],
     "execution_count": None, "source": ["print('length', len(token))"]},
]}


def test_a_secret_a_notebook_holds_or_shows_is_left_in_no_file_of_the_run(samepack, tmp_path):
    """What carries a notebook's variables between steps and the cells' printed text exist only
    while the run does; the state the last step leaves has the secret's variable left out."""
    from samepack.paths import samepack_home

    secret = "tok-8d1f27a3e9"
    (tmp_path / "nb.ipynb").write_text(json.dumps(SECRET_NOTEBOOK))
    body = ("secrets:\n  - {name: api-token, env: API_TOKEN}\nsteps:\n"
            + step("load", "python", notebook="nb.ipynb#same_step_0")
            + step("use", "python", notebook="nb.ipynb#same_step_1", needs=["load"]))
    result = samepack("run", "-f", write_program(tmp_path, body), env={"API_TOKEN": secret})
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"[use] length {len(secret)}" in result.stdout  # the value did reach the next step
    run = last_run()
    leaking = [p for p in (samepack_home() / "runs" / run.id).rglob("*")
               if p.is_file() and secret.encode() in p.read_bytes()]
    assert leaking == []
    assert (samepack_home() / "runs" / run.id / "scripts" / "nb.state.pickle").is_file()
    assert secret not in result.stdout + result.stderr + json.dumps(run.to_dict())
