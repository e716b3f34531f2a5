"""Every malformed program gets one error line naming file, line and field."""

from __future__ import annotations

import textwrap

import pytest

from samepack.errors import InputError
from samepack.program import load_program

GOOD = """\
apiVersion: samepack.dev/v1
kind: Program
metadata: {name: demo, version: "1.0"}
parameters:
  epochs: {type: int, default: 10}
datasets:
  wine: {path: data/wine.csv}
steps:
  prepare: {run: "python prepare.py --data {datasets.wine}"}
  train:
    run: python train.py --epochs {params.epochs}
    needs: [prepare]
"""

CASES = [
    # (file name, text, expected "FILE:LINE: field" prefix, words in the message)
    ("samepack.yaml", GOOD.replace("needs: [prepare]", "needs: [prep]"),
     "samepack.yaml:12: steps.train.needs", "unknown step 'prep'"),
    ("samepack.yaml", GOOD.replace("needs: [prepare]", "needs: [train]"),
     "samepack.yaml:12: steps.train.needs", "cycle"),
    ("samepack.yaml", GOOD.replace("{params.epochs}", "{params.epoch}"),
     "samepack.yaml:11: steps.train.run", "unknown parameter 'epoch'"),
    ("samepack.yaml", GOOD.replace("{datasets.wine}", "{datasets.red}"),
     "samepack.yaml:9: steps.prepare.run", "unknown dataset 'red'"),
    ("samepack.yaml", GOOD.replace("default: 10", "default: ten"),
     "samepack.yaml:5: parameters.epochs.default", "expected an int"),
    ("samepack.yaml", GOOD.replace("type: int", "type: integer"),
     "samepack.yaml:5: parameters.epochs.type", "is not one of"),
    ("samepack.yaml", GOOD.replace("kind: Program\n", ""),
     "samepack.yaml:1", "'kind' is required"),
    ("samepack.yaml", GOOD.replace("name: demo", "name: Demo_Program"),
     "samepack.yaml:3: metadata.name", "not allowed"),
    ("samepack.yaml", GOOD.replace("    run: python train.py", "    rnu: python train.py"),
     "samepack.yaml:11: steps.train.rnu", "unknown field"),
    ("samepack.yaml", GOOD + "resources: {memory: lots}\n",
     "samepack.yaml:13: resources.memory", "not allowed"),
    ("samepack.yaml", GOOD + "schedules:\n  nightly: {cron: '0 3 * *'}\n",
     "samepack.yaml:14: schedules.nightly.cron", "not allowed"),
    ("samepack.yaml", GOOD + "schedules:\n  nightly: {cron: '0 3 * * *', params: {epochz: 1}}\n",
     "samepack.yaml:14: schedules.nightly.params.epochz", "unknown parameter"),
    ("samepack.yaml", GOOD + "secrets:\n  - {name: key}\n",
     "samepack.yaml:14: secrets[0]", "'env' is required"),
    ("samepack.yaml", GOOD + "secrets:\n  - {name: a, env: KEY}\n  - {name: b, env: KEY}\n",
     "samepack.yaml:15: secrets[1].env", "set by two secrets"),
    ("samepack.yaml", GOOD.replace("datasets:\n  wine: {path: data/wine.csv}",
                                   "datasets:\n  wine: {sha256: abc}"),
     "samepack.yaml:7: datasets.wine", ""),
    ("samepack.yaml", GOOD.replace("steps:\n", "steps:\n  bad step: {run: x}\n"),
     "samepack.yaml:9: steps.bad step", "not allowed"),
    ("samepack.yaml", GOOD.replace("metadata: {name: demo", "metadata: {name: [demo"),
     "samepack.yaml:3", "invalid YAML"),
    ("samepack.yaml", GOOD.replace("  epochs: {type: int, default: 10}",
                                   "  epochs: {type: int, default: 10}\n  epochs: {type: int}"),
     "samepack.yaml:6: parameters.epochs", "duplicate key"),
    ("samepack.yaml", GOOD.replace("default: 10}", "default: 10, choices: [1, 2]}"),
     "samepack.yaml:5: parameters.epochs.default", "not one of"),
    ("samepack.yaml", GOOD.replace('version: "1.0"', "version: 1.10"),
     "samepack.yaml:3: metadata.version", "as a string"),
    ("same.yaml", "apiVersion: x\nmetadata: {name: s, version: '1'}\nenvironments:\n  gpu: {image_tag: a}\n"
                  "notebook: {path: nb.ipynb}\n",
     "same.yaml:3: environments", "must contain a 'default'"),
    ("same.yaml", "metadata: {name: s}\nenvironments: {default: {image_tag: a}}\nnotebook: {path: nb.ipynb}\n",
     "same.yaml:1: apiVersion", "apiVersion"),
    ("same.yaml", "apiVersion: x\nmetadata: {name: s}\nenvironments: {default: {image_tag: a}}\n"
                  "notebook: {path: missing.ipynb}\n",
     "same.yaml:4: notebook.path", "not found"),
    ("ame.yaml", "projectname: p\ntasks:\n  train:\n    env: []\n",
     "ame.yaml:3: tasks.train.runcommand", "runcommand is required"),
    ("ame.yaml", "projectname: p\ntasks:\n  t: {runcommand: a}\nrecurring_tasks:\n  n: {taskref: x, schedule: '* * * * *'}\n",
     "ame.yaml:5: recurring_tasks.n.taskref", "unknown task 'x'"),
    ("ame.yaml", "name: p\ntasks:\n  - name: t\n    executor: !pip\n      pythonVersion: '3.11'\n",
     "ame.yaml:4: tasks[0].executor", "needs a command"),
    ("ame.yaml", "name: p\ntasks:\n  - name: t\n    command: python a.py\n    dataSets:\n      - ref: {name: nope}\n",
     "ame.yaml:6: tasks[0].dataSets[0]", "unknown data set 'nope'"),
    ("ame.yaml", "projectname: p\ntasks:\n  t:\n    runcommand: a\n    resources: {cpu: lots}\n",
     "ame.yaml:5: tasks.t.resources", "not allowed"),
]


@pytest.mark.parametrize("name,text,where,words", CASES, ids=[f"{i:02d}-{c[0]}" for i, c in enumerate(CASES)])
def test_malformed_program(tmp_path, samepack, name, text, where, words):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    with pytest.raises(InputError) as raised:
        load_program(path, show_warnings=False)
    message = raised.value.message
    assert message.startswith(where), message
    assert words in message
    assert "\n" not in message
    result = samepack("create", "program", "-f", path)  # the same, through the CLI
    assert result.exit_code == 3
    assert result.stderr.startswith(f"error: {where}")
    assert "Traceback" not in result.stderr


def test_at_least_fifteen_cases():
    assert len(CASES) >= 15
