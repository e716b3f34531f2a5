"""`samepack reproduce` end to end on real bundles: a match, a deliberate code change, unseeded
randomness, tolerances, a program of the local store, and bad input."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("reproduce")


def single_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.fixture
def exported(fixture_project, samepack, tmp_path: Path):
    """``exported(fixture, *run_args) -> (project, bundle)``: init, register, run once, export."""

    def make(name: str, *run_args: str) -> tuple[Path, Path]:
        project = fixture_project(name)
        assert samepack("init", project, "--force").exit_code == 0
        assert samepack("create", "program", "-f", project / "samepack.yaml").exit_code == 0
        result = samepack("run", "program", name, *run_args)
        assert result.exit_code == 0, result.stderr
        bundle = tmp_path / f"{name}.tgz"
        result = samepack("export", "program", "-n", name, "-o", bundle)
        assert result.exit_code == 0, result.stderr
        return project, bundle

    return make


def report(directory: Path) -> dict:
    found = sorted(directory.glob("reproduce-*.json"))
    assert len(found) == 1 and found[0].with_suffix(".md").is_file()
    return json.loads(found[0].read_text())


def test_exported_bundle_reproduces(exported, samepack, tmp_path: Path) -> None:
    project, bundle = exported("argparse-script", "--epochs=12")
    (project / "requirements.txt").write_text("click==0.0.1\n")  # a pin this machine lacks
    assert samepack("export", "program", "-n", "argparse-script", "-o", bundle,
                    "--force").exit_code == 0
    reports = tmp_path / "reports"
    result = samepack("reproduce", bundle, "--no-env", "--report-dir", reports)
    assert result.exit_code == 0, result.stderr
    assert "reproduced: 3 metric(s) and 1 output file(s) matched the record" in result.stdout
    data = report(reports)
    assert data["outcome"] == "reproduced" and data["repeats"] == 2
    assert data["params"]["epochs"] == 12
    assert {m["name"]: m["verdict"] for m in data["metrics"]} == {
        "bias": "match", "mse": "match", "weight": "match"}
    assert [(a["path"], a["verdict"]) for a in data["artifacts"]] == [("model.json", "match")]
    assert "(--no-env)" in data["environment"]
    assert data["machine"] == [{"what": "package click", "recorded": "0.0.1",
                                "here": importlib.metadata.version("click")}]
    assert "what differs between the two machines" in result.stdout


def test_changed_code_is_reported_as_a_mismatch(exported, samepack, tmp_path: Path) -> None:
    project, _ = exported("argparse-script")
    train = project / "train.py"
    train.write_text(train.read_text().replace("random.Random(args.seed)",
                                               "random.Random(args.seed + 1)"))
    changed = tmp_path / "changed.tgz"
    assert samepack("export", "program", "-n", "argparse-script", "-o", changed).exit_code == 0
    result = samepack("reproduce", changed, "--no-env", "--report-dir", tmp_path)
    assert result.exit_code == 13
    line = single_error_line(result.stderr)
    assert "not reproduced" in line and "non-deterministic" not in line
    assert "mse: recorded " in line and "(mismatch)" in line
    data = report(tmp_path)
    assert data["outcome"] == "mismatch"
    assert {m["verdict"] for m in data["metrics"]} == {"mismatch"}
    assert data["artifacts"][0]["verdict"] == "mismatch"
    recorded = {m["name"]: m["recorded"] for m in data["metrics"]}
    assert all(f"{name}: recorded {value!r}" in line or name == "weight"
               for name, value in recorded.items())


def test_unseeded_code_is_non_deterministic(exported, samepack, tmp_path: Path) -> None:
    _, bundle = exported("unseeded", "--samples=300")
    result = samepack("reproduce", bundle, "--no-env", "--report-dir", tmp_path)
    assert result.exit_code == 13
    line = single_error_line(result.stderr)
    assert "non-deterministic: the re-runs" in line and "mean_distance" in line
    assert report(tmp_path)["outcome"] == "non-deterministic"
    # Loose enough tolerances make the same runs agree.
    (tmp_path / "loose").mkdir()
    result = samepack("reproduce", bundle, "--no-env", "--atol", "1", "--report-dir",
                      tmp_path / "loose")
    assert result.exit_code == 0, result.stderr
    assert report(tmp_path / "loose")["tolerance"] == {"atol": 1.0, "rtol": 0.0}


def test_program_from_the_store_and_run_selection(exported, samepack, tmp_path: Path,
                                                  samepack_home: Path) -> None:
    exported("argparse-script", "--epochs=3")
    assert samepack("run", "program", "argparse-script", "--epochs=4").exit_code == 0
    from samepack.history import History

    history = History()
    first = history.list_runs("argparse-script")[-1]
    history.close()
    result = samepack("reproduce", "argparse-script:0.1.0", "--run", first.id[:10], "--repeat",
                      "1", "--no-env", "--report-dir", tmp_path)
    assert result.exit_code == 0, result.stderr
    data = report(tmp_path)
    assert data["run"] == first.id and data["params"]["epochs"] == 3
    assert len(History().list_runs("argparse-script")) == 2  # re-runs stay in the isolated store
    assert not list(Path(samepack_home).glob("reproduce-*"))


BAD = [
    (["missing.tgz", "--no-env"], 3, "missing.tgz: no such bundle"),
    (["nothing:1.0", "--no-env"], 4, "nothing"),
    (["BUNDLE", "--no-env", "--run", "ffffffff"], 4, "no run with id ffffffff"),
    (["BUNDLE", "--no-env", "--repeat", "0"], 2, "--repeat"),
    (["BUNDLE", "--no-env", "--rtol", "-1"], 2, "--rtol"),
]


@pytest.mark.parametrize("args,code,text", BAD, ids=[b[2] for b in BAD])
def test_bad_input(args, code, text, exported, samepack, tmp_path: Path, request) -> None:
    if "BUNDLE" in args:
        bundle = request.getfixturevalue("tmp_path") / "unseeded.tgz"
        if not bundle.exists():
            exported("unseeded", "--samples=10")
        args = [str(bundle) if a == "BUNDLE" else a for a in args]
    result = samepack("reproduce", *args, "--report-dir", tmp_path)
    assert result.exit_code == code, result.stderr
    assert text in result.stderr
    if code != 2:
        single_error_line(result.stderr)
    assert not list(tmp_path.glob("reproduce-*"))
