"""Golden tests: ``samepack scan --json --no-installed`` on every fixture project equals its
``expected-scan.json``. ``--no-installed`` keeps the answer independent of what happens to be
installed here (docs/scan-json.md). Regenerate after an intended change with
``SAMEPACK_UPDATE_GOLDEN=1 python -m pytest tests/scan/test_golden.py`` and review the diff."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import FIXTURES

# Projects that declare no exact Python get one, so the golden does not follow the running Python.
GOLDEN = {
    "wine-quality": ["--python", "3.11"],
    "pytorch-cuda": [],
    "conda-project": [],
    "messy": [],
}
UPDATE = os.environ.get("SAMEPACK_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_scan_json_matches_golden(name, samepack, fixture_project):
    project = fixture_project(name)
    result = samepack("scan", project, "--json", "--no-installed", *GOLDEN[name])
    assert result.exit_code == 0, result.stderr
    golden = FIXTURES / name / "expected-scan.json"
    if UPDATE:
        golden.write_text(result.stdout, encoding="utf-8")
    assert json.loads(result.stdout) == json.loads(golden.read_text(encoding="utf-8"))
    assert result.stdout == golden.read_text(encoding="utf-8"), "same data, different bytes"


def test_golden_is_independent_of_location(samepack, fixture_project, tmp_path):
    first = samepack("scan", fixture_project("messy"), "--json", "--no-installed").stdout
    second = samepack("scan", FIXTURES / "messy", "--json", "--no-installed").stdout
    assert first == second
