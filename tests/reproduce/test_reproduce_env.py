"""`samepack reproduce` recreating the environment from the bundle's lock, offline: a real wheel
in a local directory, locked by package-env (uv, hashes), installed by env create into a new
environment that only the re-runs use."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.xdist_group("reproduce"), pytest.mark.slow]

MODULE = "def fmt(value):\n    return round(value, 6)\n"
SCRIPT = '''"""Sum the first N squares, formatted by a package that only the locked environment has."""
import argparse
import json
import os
import sys

import tinyfmt

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10, help="how many squares")
    args = parser.parse_args()
    total = tinyfmt.fmt(sum(i * i for i in range(args.n)) / 3)
    with open(os.environ["SAMEPACK_METRICS"], "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"name": "total", "value": total}) + "\\n")
    print("python", sys.executable)
'''


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(directory: Path) -> Path:
    """A real, installable pure-Python wheel, written the way the wheel spec says."""
    info = "tinyfmt-1.0.0.dist-info"
    files = {
        "tinyfmt/__init__.py": MODULE.encode(),
        f"{info}/METADATA": b"Metadata-Version: 2.1\nName: tinyfmt\nVersion: 1.0.0\n",
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: samepack-tests\nRoot-Is-Purelib: true\n"
                         b"Tag: py3-none-any\n",
    }
    record = "\n".join([_record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"])
    files[f"{info}/RECORD"] = (record + "\n").encode()
    wheel = directory / "tinyfmt-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel


def test_environment_recreated_from_the_lock(tmp_path: Path, samepack, monkeypatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL", "UV_INDEX_URL",
                 "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS"):
        monkeypatch.delenv(name, raising=False)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels)
    project = tmp_path / "squares"
    project.mkdir()
    (project / "squares.py").write_text(SCRIPT)
    offline = ["--no-index", "--find-links", str(wheels)]
    result = samepack("package-env", project, *offline)
    assert result.exit_code == 0, result.stderr
    assert "tinyfmt==1.0.0" in (project / "requirements.txt").read_text()
    assert samepack("init", project).exit_code == 0
    assert samepack("create", "program", "-f", project / "samepack.yaml").exit_code == 0
    # The first run makes the environment from the lock itself, from where it was locked.
    first = samepack("run", "program", "squares", "--n=7")
    assert first.exit_code == 0 and "creating the environment from requirements.txt" in first.stderr
    bundle = tmp_path / "squares.tgz"
    assert samepack("export", "program", "-n", "squares", "-o", bundle).exit_code == 0

    reports = tmp_path / "reports"
    result = samepack("reproduce", bundle, *offline, "--report-dir", reports)
    assert result.exit_code == 0, result.stderr + result.stdout
    report = json.loads(next(reports.glob("reproduce-*.json")).read_text())
    assert report["outcome"] == "reproduced"
    assert report["environment"] == "recreated from the bundle's lock in a new environment"
    assert report["metrics"] == [{"name": "total", "recorded": 30.333333, "difference": 0.0,
                                  "reproduced": [30.333333, 30.333333], "verdict": "match"}]
    assert "samepack-reproduce-" in result.stdout  # the steps ran the new environment's python
