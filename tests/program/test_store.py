"""The local program store: atomic registration, conflicts, versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from samepack.errors import ConflictError, NotFoundError
from samepack.program import load_program
from samepack.store import Store

REPO = Path(__file__).resolve().parents[2]


def _program(tmp_path: Path, version: str = "1.0", alpha: float = 0.5):
    text = (REPO / "fixtures" / "wine-quality" / "samepack.yaml").read_text()
    text = text.replace('version: "1.0"', f'version: "{version}"').replace("default: 0.5\n    help: reg",
                                                                         f"default: {alpha}\n    help: reg")
    path = tmp_path / f"v{version}-{alpha}" / "samepack.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return load_program(path), path.parent


def test_register_layout_and_get(tmp_path, samepack_home):
    program, project = _program(tmp_path)
    store = Store()
    entry = store.register(program, project, str(project / "samepack.yaml"))
    assert entry.path == samepack_home / "programs" / "wine-quality" / "1.0"
    data = json.loads((entry.path / "entry.json").read_text())
    assert data["format"] == 1 and data["digest"].startswith("sha256:")
    assert data["project_dir"] == str(project.resolve()) and data["created_from"] == "file"
    assert (entry.path / "program" / "samepack.yaml").is_file()
    assert store.get("wine-quality").workdir == project.resolve()
    assert store.get("wine-quality").program.parameters["alpha"].default == 0.5
    assert not list((samepack_home / "staging").iterdir())  # nothing left behind


def test_identical_registration_is_a_no_op_and_different_needs_force(tmp_path):
    program, project = _program(tmp_path)
    store = Store()
    first = store.register(program, project, "a")
    assert store.register(program, project, "a").digest == first.digest
    changed, _ = _program(tmp_path, alpha=0.7)
    with pytest.raises(ConflictError, match="already registered"):
        store.register(changed, project, "a")
    assert store.get("wine-quality:1.0").digest == first.digest  # untouched
    replaced = store.register(changed, project, "a", force=True)
    assert replaced.digest != first.digest
    assert store.get("wine-quality:1.0").program.parameters["alpha"].default == 0.7


def test_latest_version_by_pep440_order(tmp_path):
    store = Store()
    for version in ["1.2", "1.10", "1.9"]:
        program, project = _program(tmp_path, version=version)
        store.register(program, project, None)
    assert store.get("wine-quality").version == "1.10"
    assert [e.version for e in store.list()] == ["1.2", "1.9", "1.10"]
    with pytest.raises(NotFoundError, match="wine-quality:2.0"):
        store.get("wine-quality:2.0")


def test_register_directory_from_bundle_layout(tmp_path):
    program, project = _program(tmp_path)
    store = Store()
    staged = store.staging_dir()
    entry_file = staged / "entry.json"
    (staged / "code").mkdir()
    (staged / "program").mkdir()
    from samepack.program.canonical import canonical_yaml, program_digest

    (staged / "program" / "samepack.yaml").write_text(canonical_yaml(program))
    entry_file.write_text(json.dumps({"format": 1, "name": program.name, "version": program.version,
                                      "digest": program_digest(program), "project_dir": None,
                                      "created_from": "bundle", "source": "x.tgz"}))
    entry = store.register_directory(staged)
    assert entry.project_dir is None and entry.workdir == entry.path / "code"
    assert not staged.exists()


def test_cli_create_and_list(samepack, fixture_project):
    project = fixture_project("wine-quality")
    result = samepack("create", "program", "-f", project / "samepack.yaml")
    assert result.exit_code == 0, result.stderr
    assert "registered wine-quality:1.0" in result.stdout
    listed = samepack("programs", "--json")
    assert [e["name"] for e in json.loads(listed.stdout)] == ["wine-quality"]
    table = samepack("programs")
    assert "wine-quality" in table.stdout
    (project / "samepack.yaml").write_text((project / "samepack.yaml").read_text().replace("0.5", "0.6"))
    refused = samepack("create", "program", "-f", project / "samepack.yaml")
    assert refused.exit_code == 5 and "--force" in refused.stderr
    assert samepack("create", "program", "-f", project / "samepack.yaml", "--force").exit_code == 0


def test_create_program_from_url(samepack, tmp_path, monkeypatch):
    import http.server
    import threading
    from functools import partial

    served = tmp_path / "served"
    served.mkdir()
    (served / "samepack.yaml").write_text(
        "apiVersion: samepack.dev/v1\nkind: Program\nmetadata: {name: remote, version: '2.0'}\n"
        "steps:\n  hello: {run: python -c \"print('hi from a URL')\"}\n")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/samepack.yaml"
        workdir = tmp_path / "work"
        workdir.mkdir()
        result = samepack("create", "program", "-f", url, "--project-dir", workdir)
        assert "only this file was downloaded" in result.stderr
        assert result.exit_code == 0, result.stderr
        missing = samepack("create", "program", "-f", url.replace("samepack.yaml", "nope.yaml"))
        assert missing.exit_code == 8 and "cannot download" in missing.stderr
    finally:
        server.shutdown()
        server.server_close()
    entry = Store().get("remote")
    assert entry.source == url and entry.workdir == workdir.resolve()
    ran = samepack("run", "program", "remote:2.0")
    assert ran.exit_code == 0 and "[hello] hi from a URL" in ran.stdout


def test_create_program_from_bundle(samepack, tmp_path, monkeypatch):
    from samepack.bundle import export_bundle

    project = tmp_path / "project"
    project.mkdir()
    (project / "hello.py").write_text("print('hello from the bundle')\n")
    (project / "samepack.yaml").write_text(
        "apiVersion: samepack.dev/v1\nkind: Program\nmetadata: {name: bundled, version: '1.0'}\n"
        "steps:\n  hello: {run: python hello.py}\n")
    assert samepack("create", "program", "-f", project / "samepack.yaml").exit_code == 0
    bundle = tmp_path / "bundled.tgz"
    export_bundle("bundled", bundle)
    monkeypatch.setenv("SAMEPACK_HOME", str(tmp_path / "elsewhere"))
    result = samepack("create", "program", "-f", bundle)
    assert result.exit_code == 0, result.stderr
    entry = Store().get("bundled:1.0")
    assert entry.created_from == "bundle" and entry.project_dir is None
    assert (entry.workdir / "hello.py").is_file()
    ran = samepack("run", "program", "bundled")
    assert ran.exit_code == 0 and "[hello] hello from the bundle" in ran.stdout


def test_a_store_file_changed_after_registration_is_checked_again(tmp_path, capsys, samepack):
    from samepack.errors import InputError

    program, project = _program(tmp_path)
    entry = Store().register(program, project, None)
    assert Store().get("wine-quality").program.parameters["alpha"].default == 0.5
    assert "changed since" not in capsys.readouterr().err
    stored = entry.path / "program" / "samepack.yaml"
    stored.write_text(stored.read_text().replace("default: 0.5", "default: 0.9", 1))
    assert Store().get("wine-quality").program.parameters["alpha"].default == 0.9
    assert "changed since wine-quality:1.0 was registered" in capsys.readouterr().err
    stored.write_text(stored.read_text().replace("kind: Program", "kind: Nonsense"))
    with pytest.raises(InputError, match="samepack.yaml:2: kind"):
        Store().get("wine-quality").program
    listed = samepack("programs")
    assert listed.exit_code == 0 and "unreadable" in listed.stdout
