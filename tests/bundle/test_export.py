"""Export: deterministic bytes, the right files in each part, secrets left out, atomic output;
import: registration, no-op repeats, conflicts, extracted directories, renames."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from samepack.bundle.format import layout
from tests.bundle.conftest import entries, git, register

COMMIT_TIME = 1704164645  # 2024-01-02T03:04:05Z


def export(samepack, out: Path, *args: str, ref: str = "mini"):
    result = samepack("export", "program", "-n", ref, "-o", out, *args)
    assert result.exit_code == 0, result.stderr
    return result


def record_run(program: str = "mini", version: str = "0.1", rmse: float = 0.5) -> str:
    from samepack.history import History

    history = History()
    run_id = history.start_run(program, version, {"alpha": 0.5})
    history.log_metric(run_id, "rmse", rmse)
    history.finish_run(run_id, "succeeded")
    history.close()
    return run_id


def test_same_inputs_give_identical_bytes(mini_project: Path, tmp_path: Path, samepack) -> None:
    register(mini_project)
    record_run()
    first, second = tmp_path / "a.tgz", tmp_path / "b.tgz"
    export(samepack, first)
    export(samepack, second)
    assert first.read_bytes() == second.read_bytes()
    _, manifest = layout.read_manifest(first)
    assert manifest.created == COMMIT_TIME
    assert [p.name for p in manifest.parts] == ["program", "env", "code", "metadata", "data"]
    with tarfile.open(first) as archive:
        for member in archive:
            assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == (0, 0, 0, "", "")
            assert member.mode in (0o644, 0o755)
    assert first.read_bytes()[4:8] == b"\0\0\0\0"  # gzip header mtime 0


def test_source_date_epoch_sets_created(mini_project: Path, tmp_path: Path, samepack,
                                        monkeypatch) -> None:
    register(mini_project)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    export(samepack, tmp_path / "a.tgz")
    assert layout.read_manifest(tmp_path / "a.tgz")[1].created == 1234567890


def test_parts_hold_the_expected_files(mini_project: Path, tmp_path: Path, samepack) -> None:
    register(mini_project)
    run_id = record_run()
    (mini_project / "untracked.py").write_text("not committed\n")
    out = tmp_path / "mini.tgz"
    export(samepack, out)
    files = entries(out)
    assert set(files) == {
        "samepack-bundle.json", "program/samepack.yaml", "env/requirements.txt",
        "code/data/table.csv", "code/main.py", "code/requirements.txt", "code/run.sh",
        "code/samepack.yaml", "infra/manifests.yaml", "metadata/runs.jsonl", "data/pointers.json",
        "metadata/report.html", "metadata/provenance.intoto.json", "metadata/sbom.cdx.json",
        *(f"samepack-bundle/{part}.json" for part in ("program", "env", "code", "metadata",
                                                     "data"))}
    with tarfile.open(out) as archive:
        assert archive.getmember("code/run.sh").mode == 0o755
        assert archive.getmember("code/main.py").mode == 0o644
    runs = [json.loads(line) for line in files["metadata/runs.jsonl"].splitlines()]
    assert [r["id"] for r in runs] == [run_id] and runs[0]["metrics"]["rmse"] == 0.5
    pointers = json.loads(files["data/pointers.json"])["datasets"]
    assert pointers == [{"name": "table", "path": "data/table.csv", "size": 8,
                         "sha256": hashlib.sha256(b"a,b\n1,2\n").hexdigest()}]
    assert b"kind: Job" in files["infra/manifests.yaml"]
    manifest = json.loads(files["samepack-bundle.json"])
    assert all("members" not in part for part in manifest["parts"])  # in the indexes
    indexes = {f"samepack-bundle/{p['name']}.json": p["index"] for p in manifest["parts"]}
    listed = {m.path: m for m in layout.read_manifest(out)[1].members()}
    for name, data in files.items():
        if name in indexes:
            assert indexes[name]["sha256"] == hashlib.sha256(data).hexdigest()
        elif name != "samepack-bundle.json":
            assert listed[name].sha256 == hashlib.sha256(data).hexdigest()


def test_options_runs_no_code_include_data(mini_project: Path, tmp_path: Path, samepack) -> None:
    register(mini_project)
    record_run()
    out = tmp_path / "mini.tgz"
    export(samepack, out, "--runs", "none", "--no-code", "--include-data")
    files = entries(out)
    assert not [name for name in files if name.startswith(("code/", "metadata/runs"))]
    assert files["data/files/data/table.csv"] == b"a,b\n1,2\n"
    assert json.loads(files["data/pointers.json"])["datasets"][0]["member"] == \
        "data/files/data/table.csv"


def test_secrets_never_enter_the_bundle(mini_project: Path, tmp_path: Path, samepack,
                                        monkeypatch) -> None:
    secret_value = "s3cr3t-VALUE-4f9a2b7c"
    monkeypatch.setenv("STORAGE_KEY", secret_value)
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
    planted = {
        ".env": "STORAGE_KEY=x\n", ".env.production": "A=1\n", "id_rsa": key,
        "deploy.pem": key.replace("OPENSSH ", "RSA "), ".aws/credentials": "[default]\n",
        ".azure/accessTokens.json": "[]", ".netrc": "machine x login y password z\n",
        ".pypirc": "[pypi]\npassword = x\n",
        "sa.json": json.dumps({"type": "service_account", "private_key": "k"}),
        "notes/aws.txt": "key = AKIAIOSFODNN7EXAMPLE\n",
        "notes/gh.py": "TOKEN = 'ghp_" + "a1B2" * 9 + "'\n",
        "notes/slack.cfg": "token=xoxb-1234567890-abcdefghij\n",
    }
    for name, text in planted.items():
        (mini_project / name).parent.mkdir(parents=True, exist_ok=True)
        (mini_project / name).write_text(text)
    git(mini_project, "add", "-f", ".")
    git(mini_project, "commit", "-q", "-m", "oops")
    register(mini_project)
    out = tmp_path / "mini.tgz"
    result = export(samepack, out)
    files = entries(out)
    for name in planted:
        assert f"code/{name}" not in files
        assert f"left out {name}" in result.stderr
    raw = out.read_bytes()
    expanded = gzip.decompress(raw)
    for needle in [secret_value, "AKIAIOSFODNN7EXAMPLE", "PRIVATE KEY", "xoxb-", "ghp_"]:
        assert needle.encode() not in raw and needle.encode() not in expanded
    assert "code/main.py" in files


def test_project_outside_git_uses_gitignore(tmp_path: Path, samepack) -> None:
    project = tmp_path / "plain"
    (project / ".venv" / "lib").mkdir(parents=True)
    (project / "out").mkdir()
    (project / "samepack.yaml").write_text("apiVersion: samepack.dev/v1\nkind: Program\n"
                                           "metadata: {name: plain, version: '1'}\n"
                                           "steps: {main: {run: python main.py}}\n")
    (project / "main.py").write_text("print(1)\n")
    (project / ".gitignore").write_text("out/\n*.log\n")
    (project / "debug.log").write_text("x")
    (project / "out" / "model.bin").write_text("x")
    (project / ".venv" / "lib" / "site.py").write_text("x")
    (project / "link.py").symlink_to(project / "main.py")
    register(project)
    out = tmp_path / "plain.tgz"
    result = export(samepack, out, ref="plain")
    code = sorted(name for name in entries(out) if name.startswith("code/"))
    assert code == ["code/.gitignore", "code/main.py", "code/samepack.yaml"]
    parts = {p.name: [m.path for m in p.members] for p in layout.read_manifest(out)[1].parts}
    assert "code/samepack.yaml" in parts["program"]  # the program's file: in the program part
    assert "code/samepack.yaml" not in parts["code"]
    assert "left out link.py: symbolic link" in result.stderr
    assert layout.read_manifest(out)[1].created == 0


def test_refuses_to_overwrite_without_force(mini_project: Path, tmp_path: Path,
                                            samepack) -> None:
    register(mini_project)
    out = tmp_path / "mini.tgz"
    out.write_bytes(b"user data")
    result = samepack("export", "program", "-n", "mini", "-o", out)
    assert result.exit_code == 5 and "--force" in result.stderr
    assert out.read_bytes() == b"user data"
    export(samepack, out, "--force")
    assert samepack("verify", out).exit_code == 0


def test_unknown_program_and_bad_options(samepack, tmp_path: Path) -> None:
    result = samepack("export", "program", "-n", "nope", "-o", tmp_path / "x.tgz")
    assert result.exit_code == 4 and result.stderr.startswith("error:")
    assert not (tmp_path / "x.tgz").exists()


def test_round_trip_gives_the_same_sha256(mini_project: Path, tmp_path: Path, samepack,
                                          monkeypatch) -> None:
    register(mini_project)
    record_run(rmse=0.25)
    first = tmp_path / "first.tgz"
    export(samepack, first, "--include-data")
    monkeypatch.setenv("SAMEPACK_HOME", str(tmp_path / "elsewhere"))
    result = samepack("import", first)
    assert result.exit_code == 0, result.stderr
    assert "1 runs restored" in result.stderr
    again = tmp_path / "again.tgz"
    export(samepack, again, "--include-data")
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(first.read_bytes()).digest()
    # outputs a run writes into the imported code/ do not leak into a later export
    from samepack.store import Store

    entry = Store().get("mini:0.1")
    (entry.workdir / "model.bin").write_bytes(b"output")
    export(samepack, again, "--include-data", "--force")
    assert again.read_bytes() == first.read_bytes()


def test_zstd_bundle_round_trip(mini_project: Path, tmp_path: Path, samepack,
                                monkeypatch) -> None:
    register(mini_project)
    out = tmp_path / "mini.tzst"
    export(samepack, out, "--compression", "zstd")
    assert out.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"
    tar = subprocess.run(["tar", "--zstd", "-tf", out], capture_output=True, text=True)
    if tar.returncode == 0:
        assert "code/main.py" in tar.stdout.split()
    cut = tmp_path / "cut.tzst"
    cut.write_bytes(out.read_bytes()[:-100])
    result = samepack("verify", cut)
    assert result.exit_code == 7 and "truncated" in result.stderr
    monkeypatch.setenv("SAMEPACK_HOME", str(tmp_path / "elsewhere"))
    assert samepack("import", out).exit_code == 0
    again = tmp_path / "again.tzst"
    export(samepack, again, "--compression", "zstd")
    assert again.read_bytes() == out.read_bytes()


def test_import_is_idempotent_and_conflicts_need_force(mini_project: Path, tmp_path: Path,
                                                       samepack, monkeypatch) -> None:
    register(mini_project)
    one = tmp_path / "one.tgz"
    export(samepack, one)
    (mini_project / "main.py").write_text("print('changed')\n")
    git(mini_project, "commit", "-qam", "change")
    two = tmp_path / "two.tgz"
    export(samepack, two)
    home = tmp_path / "elsewhere"
    monkeypatch.setenv("SAMEPACK_HOME", str(home))
    assert samepack("import", one).exit_code == 0
    before = (home / "programs" / "mini" / "0.1" / "entry.json").stat().st_ino
    assert samepack("import", one).exit_code == 0
    assert (home / "programs" / "mini" / "0.1" / "entry.json").stat().st_ino == before
    result = samepack("import", two)
    assert result.exit_code == 5 and result.stderr.startswith("error:")
    code = home / "programs" / "mini" / "0.1" / "code" / "main.py"
    assert code.read_text() == "print('hello')\n"
    assert samepack("import", two, "--force").exit_code == 0
    assert code.read_text() == "print('changed')\n"
    assert samepack("import", one, "--as", "other:2.0").exit_code == 0
    from samepack.store import Store

    assert [e.ref for e in Store().list()] == ["mini:0.1", "other:2.0"]
    assert Store().get("other:2.0").program.name == "other"
    assert not list((home / "staging").iterdir())


def test_extracted_directory_imports_and_is_checked(mini_project: Path, tmp_path: Path,
                                                    samepack, monkeypatch) -> None:
    register(mini_project)
    out = tmp_path / "mini.tgz"
    export(samepack, out)
    extracted = tmp_path / "x"
    extracted.mkdir()
    subprocess.run(["tar", "-xzf", out, "-C", extracted], check=True)
    assert samepack("verify", extracted).exit_code == 0
    (extracted / "code" / "main.py").write_text("print('tampered')\n")
    result = samepack("verify", extracted)
    assert result.exit_code == 7 and "code/main.py" in result.stderr
    (extracted / "code" / "main.py").write_text("print('hello')\n")
    (extracted / "code" / "extra.py").write_text("x")
    assert samepack("verify", extracted).exit_code == 7
    (extracted / "code" / "extra.py").unlink()
    (extracted / "code" / "link").symlink_to("/etc/passwd")
    assert samepack("verify", extracted).exit_code == 7
    (extracted / "code" / "link").unlink()
    monkeypatch.setenv("SAMEPACK_HOME", str(tmp_path / "elsewhere"))
    assert samepack("import", extracted).exit_code == 0


def test_inspect_shows_history_and_pointers(mini_project: Path, tmp_path: Path,
                                            samepack) -> None:
    register(mini_project)
    run_id = record_run()
    out = tmp_path / "mini.tgz"
    export(samepack, out)
    result = samepack("inspect", out, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["manifest"]["program"] == {"name": "mini", "version": "0.1"}
    assert [r["id"] for r in data["runs"]] == [run_id]
    assert data["pointers"][0]["name"] == "table"
    text = samepack("inspect", out).stdout
    assert "mini:0.1" in text and "code/main.py" in text and run_id in text


def test_segments_api_on_an_exported_bundle(mini_project: Path, tmp_path: Path,
                                            samepack) -> None:
    register(mini_project)
    out = tmp_path / "mini.tgz"
    export(samepack, out)
    segments = layout.segments(out)
    manifest_bytes, manifest = layout.read_manifest(out)
    assert [s.part for s in segments] == [p.name for p in manifest.parts]
    data = out.read_bytes()
    assert data == (layout.header_segment(manifest_bytes)
                    + b"".join(data[s.offset:s.offset + s.size] for s in segments)
                    + layout.trailer_segment("gzip"))


def test_changed_data_is_recorded_with_a_warning(mini_project: Path, tmp_path: Path,
                                                 samepack) -> None:
    yaml = (mini_project / "samepack.yaml").read_text().replace(
        "table: {path: data/table.csv}", "table: {path: data/table.csv, sha256: " + "ab" * 32 + "}")
    (mini_project / "samepack.yaml").write_text(yaml)
    register(mini_project)
    out = tmp_path / "mini.tgz"
    result = export(samepack, out)
    assert "dataset table: data/table.csv does not match" in result.stderr
    pointer = json.loads(entries(out)["data/pointers.json"])["datasets"][0]
    assert pointer["sha256"] == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert pointer["declared_sha256"] == "ab" * 32


def test_k8s_version_validates_infra(mini_project: Path, tmp_path: Path, samepack) -> None:
    register(mini_project)
    export(samepack, tmp_path / "a.tgz", "--k8s-version", "1.30")
    result = samepack("export", "program", "-n", "mini", "-o", tmp_path / "b.tgz",
                      "--k8s-version", "0.1")
    assert result.exit_code == 3 and "Kubernetes 0.1" in result.stderr
    assert not (tmp_path / "b.tgz").exists() and not list(tmp_path.glob(".b.tgz*"))


def test_progress_is_told_of_every_tar_byte(mini_project: Path, tmp_path: Path) -> None:
    """``on_bytes`` (the command's progress bar) hears of every byte of the parts' tar
    streams: the whole decoded bundle but the manifest member and the end-of-archive marker."""
    from samepack.bundle.write.export import ExportOptions, export_bundle
    from samepack.bundle.format.layout import read_manifest
    from samepack.bundle.format.tarblocks import member_header, padding

    counted: list[int] = []
    options = ExportOptions(runs="none", include_data=True, on_bytes=counted.append)
    export_bundle(register(mini_project), tmp_path / "out.tgz", options)
    raw, _ = read_manifest(tmp_path / "out.tgz")
    manifest_member = len(member_header("samepack-bundle.json", len(raw), 0o644)) + len(raw) \
        + len(padding(len(raw)))
    decoded = gzip.decompress((tmp_path / "out.tgz").read_bytes())
    assert sum(counted) == len(decoded) - manifest_member - 1024


def test_output_folder_missing_is_a_clear_error(mini_project: Path, tmp_path: Path) -> None:
    from samepack.bundle.write.export import ExportOptions, export_bundle
    from samepack.errors import InputError

    with pytest.raises(InputError, match="no such directory for out.tgz"):
        export_bundle(register(mini_project), tmp_path / "missing" / "out.tgz",
                      ExportOptions(runs="none"))
    assert not (tmp_path / "missing").exists()


def _in_terminal(args: list[str], env: dict) -> tuple[int, str]:
    """Run a command with a pseudo-terminal as its stdin/stdout/stderr; exit code and output."""
    import os
    import pty

    pid, terminal = pty.fork()
    if pid == 0:
        os.execvpe(args[0], args, env)
    output = b""
    while True:
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # the terminal closes when the command ends
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_long_commands_show_progress_on_a_terminal(mini_project: Path, tmp_path: Path) -> None:
    import os
    import sys

    (mini_project / "data" / "table.csv").write_bytes(os.urandom(8 * 1024 * 1024))
    env = dict(os.environ, SAMEPACK_HOME=str(tmp_path / "home"), COLUMNS="120")
    bundle = tmp_path / "mini.tgz"
    command = [sys.executable, "-m", "samepack"]
    subprocess.run(command + ["create", "program", "-f", str(mini_project / "samepack.yaml")],
                   env=env, check=True, capture_output=True)
    code, shown = _in_terminal(command + ["export", "program", "-n", "mini", "-o", str(bundle),
                                          "--include-data"], env)
    assert code == 0 and "exporting" in shown, shown
    code, shown = _in_terminal(command + ["verify", str(bundle)], env)
    assert code == 0 and "verifying" in shown and "every sha256" in shown, shown
    env["SAMEPACK_HOME"] = str(tmp_path / "other-home")
    code, shown = _in_terminal(command + ["import", str(bundle)], env)
    assert code == 0 and "verifying" in shown and "imported mini:0.1" in shown, shown
