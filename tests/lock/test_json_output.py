"""``--json`` on package-env (and ``--check``) and ``env create``: one JSON document on stdout,
the result or the error, messages on stderr."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path


def document(result) -> dict:
    """The one JSON document on stdout (json.loads fails on a second one or on stray text)."""
    return json.loads(result.stdout)


def test_package_env_check_and_env_create_answer_in_json(samepack, tmp_path, offline):
    root = tmp_path / "project"
    root.mkdir()
    (root / "train.py").write_text("import alpha\n")
    locked = samepack("package-env", root, *offline, "--json")
    assert locked.exit_code == 0, locked.stderr
    report = document(locked)
    assert report["ok"] is True and report["packages"]["pip:alpha"]
    assert {"path": "requirements.txt", "action": "create"} in report["files"]

    checked = samepack("package-env", root, "--check", "--json")
    assert checked.exit_code == 0, checked.stderr
    assert document(checked) == {"ok": True, "up_to_date": True, "differences": []}

    (root / "extra.py").write_text("import gamma\n")
    drift = samepack("package-env", root, "--check", "--json")
    assert drift.exit_code == 10
    drifted = document(drift)
    assert drifted["ok"] is False and drifted["up_to_date"] is False
    assert "+ gamma  (found at extra.py:1)" in drifted["differences"]
    assert drifted["error"]["exit_code"] == 10 and "out of date" in drifted["error"]["message"]
    assert drift.stderr.startswith("error: ")  # the person reading stderr is told too
    (root / "extra.py").unlink()

    created = samepack("env", "create", root, "--prefix", tmp_path / "env", *offline, "--json")
    assert created.exit_code == 0, created.stderr
    made = document(created)
    assert made["ok"] is True and made["prefix"] == str(tmp_path / "env")
    ran = subprocess.run([made["python"], "-c", "import alpha"], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr


def test_failures_are_json_documents_with_the_exit_code(samepack, tmp_path: Path):
    root = tmp_path / "project"
    root.mkdir()
    (root / "train.py").write_text("import alpha\n")
    no_lock = samepack("env", "create", root, "--json")
    assert no_lock.exit_code != 0
    error = document(no_lock)["error"]
    assert document(no_lock)["ok"] is False and error["exit_code"] == no_lock.exit_code
    assert error["message"] and "Traceback" not in no_lock.stderr

    missing = samepack("package-env", tmp_path / "absent", "--json")
    assert missing.exit_code == 2  # click's usage error, answered in JSON as well
    assert "absent" in document(missing)["error"]["message"]


def test_download_size_comes_from_the_sizes_the_lock_records(samepack, tmp_path, offline,
                                                             wheel_dir):
    root = tmp_path / "project"
    root.mkdir()
    (root / "train.py").write_text("import alpha\n")
    plain = samepack("package-env", root, *offline)
    assert plain.exit_code == 0, plain.stderr
    assert "download size: unknown (this lock records no file sizes" in plain.stderr

    local = samepack("package-env", root, *offline, "--locker", "uv", "--pylock", "--force",
                     "--json")
    assert local.exit_code == 0, local.stderr
    answer = document(local)  # local find-links: uv records no sizes, and none is made up
    assert answer["download_size"] is None
    assert answer["download_size_unknown_packages"] == len(answer["packages"])


def test_download_size_of_a_real_pylock_from_pypi():
    from samepack.lock.download_size import download_size

    text = (Path(__file__).parent / "fixtures" / "pylock-sizes" / "pylock.toml").read_text()
    size = download_size({"requirements.lock": "six==1.17.0\n", "pylock.toml": text})
    assert (size.total, size.sized, size.unsized) == (16918164 + 11050, 2, 0)
    assert size.describe() == "16.9 MB"
    assert download_size({"requirements.lock": "six==1.17.0\n"}) is None
