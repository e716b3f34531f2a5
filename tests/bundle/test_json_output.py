"""``verify --json`` and ``import --json``: one JSON document on stdout, the result or the
refusal, on a real exported bundle and on a damaged copy of it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bundle.conftest import register


def test_verify_and_import_answer_in_json(mini_project: Path, tmp_path: Path, samepack,
                                          monkeypatch) -> None:
    register(mini_project)
    bundle = tmp_path / "mini.tgz"
    assert samepack("export", "program", "-n", "mini", "-o", bundle).exit_code == 0

    verified = samepack("verify", bundle, "--json")
    assert verified.exit_code == 0, verified.stderr
    result = json.loads(verified.stdout)
    assert result["ok"] is True and result["program"] == "mini:0.1"
    assert result["members"] > 0 and "code" in result["parts"] and result["signed"] is False

    monkeypatch.setenv("SAMEPACK_HOME", str(tmp_path / "elsewhere"))
    imported = samepack("import", bundle, "--json")
    assert imported.exit_code == 0, imported.stderr
    entry = json.loads(imported.stdout)
    assert entry["ok"] is True and entry["ref"] == "mini:0.1"
    assert (Path(entry["path"]) / "entry.json").is_file()

    damaged = tmp_path / "damaged.tgz"
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    for command in ("verify", "import"):
        refused = samepack(command, damaged, "--json")
        assert refused.exit_code != 0
        answer = json.loads(refused.stdout)
        assert answer["ok"] is False and answer["error"]["exit_code"] == refused.exit_code
        assert "corrupt" in answer["error"]["message"] and "Traceback" not in refused.stderr


def test_export_and_inspect_answer_in_json(mini_project: Path, tmp_path: Path, samepack) -> None:
    register(mini_project)
    bundle = tmp_path / "mini.tgz"
    exported = samepack("export", "program", "-n", "mini", "-o", bundle, "--json")
    assert exported.exit_code == 0, exported.stderr
    result = json.loads(exported.stdout)
    assert result["ok"] is True and result["program"] == "mini:0.1"
    assert result["size"] == bundle.stat().st_size

    again = samepack("export", "program", "-n", "mini", "-o", bundle, "--json")
    assert again.exit_code != 0
    answer = json.loads(again.stdout)
    assert answer["ok"] is False and "exists" in answer["error"]["message"]
    assert answer["error"]["hint"] and answer["error"]["exit_code"] == again.exit_code

    missing = samepack("inspect", tmp_path / "absent.tgz", "--json")
    assert missing.exit_code != 0
    assert json.loads(missing.stdout)["error"]["exit_code"] == missing.exit_code


def test_a_damaged_bundle_is_named_in_the_one_line_error(mini_project: Path, tmp_path: Path,
                                                          samepack) -> None:
    """Whatever the defect (a flipped byte in the header, a cut file, a file that is no bundle),
    verify, inspect and import say which file it is."""
    register(mini_project)
    bundle = tmp_path / "mini.tgz"
    assert samepack("export", "program", "-n", "mini", "-o", bundle).exit_code == 0
    data = bundle.read_bytes()
    flipped = bytearray(data)
    flipped[5] ^= 0xFF
    damaged = {"flipped.tgz": bytes(flipped), "cut.tgz": data[: len(data) // 2],
               "middle.tgz": data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 0xFF])
               + data[len(data) // 2 + 1:], "text.tgz": b"not a bundle\n" * 20}
    for name, content in damaged.items():
        (tmp_path / name).write_bytes(content)
        for command in ("verify", "inspect", "import"):
            refused = samepack(command, tmp_path / name)
            assert refused.exit_code != 0, (name, command)
            first = refused.stderr.splitlines()[0]
            assert first.startswith(f"error: {tmp_path / name}: ") or first.startswith(
                f"error: {name}: "), (name, command, first)
            assert "Traceback" not in refused.stderr
