"""``reproduce --json``: the outcome and the whole report as one document on stdout, a
mismatch as the same document with its error and exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("reproduce")


def test_reproduce_answers_in_json(fixture_project, samepack, tmp_path: Path) -> None:
    project = fixture_project("argparse-script")
    assert samepack("init", project, "--force").exit_code == 0
    assert samepack("create", "program", "-f", project / "samepack.yaml").exit_code == 0
    assert samepack("run", "program", "argparse-script").exit_code == 0
    bundle = tmp_path / "same.tgz"
    assert samepack("export", "program", "-n", "argparse-script", "-o", bundle).exit_code == 0

    result = samepack("reproduce", bundle, "--no-env", "--report-dir", tmp_path, "--json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["ok"] is True and answer["outcome"] == "reproduced"
    assert {m["verdict"] for m in answer["report"]["metrics"]} == {"match"}
    assert all(Path(path).is_file() for path in answer["files"])

    train = project / "train.py"
    train.write_text(train.read_text().replace("random.Random(args.seed)",
                                               "random.Random(args.seed + 1)"))
    changed = tmp_path / "changed.tgz"
    assert samepack("export", "program", "-n", "argparse-script", "-o", changed).exit_code == 0
    mismatch = samepack("reproduce", changed, "--no-env", "--report-dir", tmp_path / "m",
                        "--json")
    assert mismatch.exit_code == 13
    answer = json.loads(mismatch.stdout)
    assert answer["ok"] is False and answer["outcome"] == "mismatch"
    assert answer["error"]["exit_code"] == 13 and "not reproduced" in answer["error"]["message"]
