"""``create program -f`` from a git repository at a revision (a local folder, and a remote one
over HTTP), and from an archive: the code comes into the store, pinned by commit or digest, and
the pin travels in exports. The repository content is SAME's own multistep feature."""

from __future__ import annotations

import functools
import http.server
import io
import shutil
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest

from samepack.store import Store
from support import require_tool

MULTISTEP = Path(__file__).resolve().parents[2] / "fixtures" / "same-project" / "features" / "multistep"
GIT = ["git", "-c", "user.email=test@example.com", "-c", "user.name=test"]


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path) -> Path:
    """SAME's multistep notebook, committed twice: v1 (0.0.1, tagged) then 0.0.2."""
    require_tool("git")
    path = shutil.copytree(MULTISTEP, tmp_path / "repo")
    _git("init", "-q", "-b", "main", cwd=path)
    _git("add", "-A", cwd=path)
    _git("commit", "-qm", "first", cwd=path)
    _git("tag", "v1", cwd=path)
    (path / "same.yaml").write_text((path / "same.yaml").read_text().replace("0.0.1", "0.0.2"))
    _git("commit", "-qam", "second", cwd=path)
    return path


@pytest.fixture
def http_root(tmp_path):
    """A loopback HTTP server for ``tmp_path/www``, stopped at the end."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_local_repository_at_a_revision(samepack, repo):
    first = _git("rev-parse", "v1", cwd=repo)
    result = samepack("create", "program", "-f", f"{repo}@v1")
    assert result.exit_code == 0, result.stderr
    entry = Store().get("multistep:0.0.1")
    assert entry.project_dir is None and (entry.workdir / "multistep.ipynb").is_file()
    assert not (entry.workdir / ".git").exists()
    assert entry.source == f"{repo}@{first}"
    assert entry.program.labels["samepack.dev/source"] == f"{repo}@{first}"
    ran = samepack("run", "program", "multistep:0.0.1")
    assert ran.exit_code == 0 and "succeeded" in ran.stdout
    second = samepack("create", "program", "-f", f"{repo}#main")
    assert second.exit_code == 0, second.stderr
    assert Store().get("multistep:0.0.2").source == f"{repo}@{_git('rev-parse', 'HEAD', cwd=repo)}"


def test_a_subdirectory_of_a_repository_is_the_project(samepack, tmp_path):
    require_tool("git")
    repo = tmp_path / "monorepo"
    shutil.copytree(MULTISTEP, repo / "features" / "multistep")
    (repo / "README.md").write_text("several projects\n")
    _git("init", "-q", "-b", "main", cwd=repo)
    _git("add", "-A", cwd=repo)
    _git("commit", "-qm", "first", cwd=repo)
    result = samepack("create", "program", "-f", f"{repo}@main#subdirectory=features/multistep")
    assert result.exit_code == 0, result.stderr
    entry = Store().get("multistep:0.0.1")
    assert sorted(p.name for p in entry.workdir.iterdir()) == ["multistep.ipynb", "same.yaml"]
    assert entry.source.endswith("#subdirectory=features/multistep")
    missing = samepack("create", "program", "-f", f"{repo}@main#subdirectory=nope")
    assert missing.exit_code == 3 and "no folder 'nope'" in missing.stderr


def test_unknown_revision_is_one_line_and_leaves_nothing(samepack, repo, samepack_home):
    result = samepack("create", "program", "-f", f"{repo}@no-such-tag")
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    assert "no revision 'no-such-tag'" in result.stderr
    assert Store().list() == [] and not any((samepack_home / "staging").iterdir())


def test_plain_repository_folder_records_its_commit(samepack, repo):
    (repo / "same.yaml").write_text((repo / "same.yaml").read_text() + "\n")
    result = samepack("create", "program", "-f", repo)
    assert result.exit_code == 0 and "uncommitted changes" in result.stderr
    entry = Store().get("multistep:0.0.2")
    assert entry.project_dir == repo.resolve()
    assert entry.source.endswith("@" + _git("rev-parse", "HEAD", cwd=repo))


def test_remote_repository_over_http_at_a_tag(samepack, repo, http_root):
    root, url = http_root
    bare = root / "multistep.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    subprocess.run(["git", "update-server-info"], cwd=bare, check=True)  # git's dumb HTTP
    result = samepack("create", "program", "-f", f"{url}/multistep.git@v1")
    assert result.exit_code == 0, result.stderr
    entry = Store().get("multistep:0.0.1")
    assert entry.source == f"{url}/multistep.git@{_git('rev-parse', 'v1', cwd=repo)}"


def _archive(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_archive_over_http_is_pinned_by_digest_and_exported(samepack, http_root, tmp_path):
    import hashlib

    root, url = http_root
    data = _archive({f"multistep-main/{p.name}": p.read_bytes() for p in MULTISTEP.iterdir()})
    (root / "main.tar.gz").write_bytes(data)
    result = samepack("create", "program", "-f", f"{url}/main.tar.gz")
    assert result.exit_code == 0, result.stderr
    entry = Store().get("multistep:0.0.1")
    pin = f"{url}/main.tar.gz#sha256={hashlib.sha256(data).hexdigest()}"
    assert entry.source == pin and (entry.workdir / "same.yaml").is_file()
    bundle = tmp_path / "multistep.tgz"
    exported = samepack("export", "program", "-n", "multistep:0.0.1", "-o", bundle, "--runs", "none")
    assert exported.exit_code == 0, exported.stderr
    with tarfile.open(bundle) as archive:
        program = archive.extractfile("program/samepack.yaml").read().decode()
        names = archive.getnames()
    assert f"samepack.dev/source: {pin}" in program
    assert "code/multistep.ipynb" in names


def test_archive_escaping_its_folder_is_refused(samepack, http_root):
    root, url = http_root
    (root / "bad.tar.gz").write_bytes(_archive({"../evil.txt": b"x", "same.yaml": b"a: 1"}))
    result = samepack("create", "program", "-f", f"{url}/bad.tar.gz")
    assert result.exit_code == 3 and "points outside the archive" in result.stderr
    assert Store().list() == []


def test_locations_are_told_apart():
    from samepack.program.codesource import parse_location

    assert parse_location("https://github.com/SAME-Project/SAME-samples").kind == "git"
    assert parse_location("https://github.com/o/r.git@v2").rev == "v2"
    assert parse_location("https://github.com/o/r#main").rev == "main"
    assert parse_location("https://user@host.example/o/r.git").rev is None
    assert parse_location("https://example.com/a/b/c/same.yaml") is None
    assert parse_location("https://example.com/x/archive/abc.tar.gz").kind == "archive"
    assert parse_location("same.yaml") is None
    browsed = parse_location("https://github.com/SAME-Project/SAME-samples/tree/main/02-multi-step-notebook")
    assert (browsed.url, browsed.rev, browsed.subdirectory) == (
        "https://github.com/SAME-Project/SAME-samples", "main", "02-multi-step-notebook")
    raw = parse_location("https://raw.githubusercontent.com/o/r/abc123/x/same.yaml")
    assert (raw.url, raw.rev, raw.subdirectory) == ("https://github.com/o/r", "abc123", "x")
    blob = parse_location("https://github.com/o/r/blob/v1/a/b/same.yaml")
    assert (blob.rev, blob.subdirectory) == ("v1", "a/b")
    both = parse_location("https://example.com/o/r.git#v2&subdirectory=x/y")
    assert (both.rev, both.subdirectory) == ("v2", "x/y")
    from samepack.errors import InputError
    with pytest.raises(InputError, match="must be a path inside"):
        parse_location("https://example.com/o/r.git#subdirectory=../up")
