"""The import's fast paths give the same results and refusals as the general ones: canonical
headers taken by one comparison, small members hashed in place, manifests and names checked
in bulk, and files created by a child process once there are many of them (the CLI forks one;
in-process tests run beside pytest's threads, where the sink creates files itself)."""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from samepack.bundle.format.manifest import Manifest, Member, canonical_json
from samepack.bundle.read.safety import check_name
from samepack.bundle.read.staging import StagingSink
from samepack.bundle.read.stream import Decoder, RawReader
from samepack.bundle.format.tarblocks import member_header
from samepack.bundle.format.tarstream import canonical_block
from samepack.errors import VerificationError
from tests.bundle.conftest import manifest_for
from tests.bundle.test_hostile import CASES, craft, reg

MANY = 400  # past the number of files created before the file maker starts


def _many(count: int = MANY) -> list[tuple]:
    rng = random.Random(7)
    return [reg(f"code/d{index // 50:02d}/f{index:04d}.py", rng.randbytes(rng.randint(1, 3000)))
            for index in range(count)]


def _tampered(member: tuple) -> tuple:
    """The member with its first byte changed: same size, other sha256."""
    data = member[1]
    return reg(member[0], bytes([data[0] ^ 1]) + data[1:], member[2])


def _import(bundle: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SAMEPACK_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "samepack", "import", str(bundle)], env=env,
                          capture_output=True, text=True, timeout=300)


def _assert_nothing_left(home: Path) -> None:
    assert not list((home / "programs").glob("*/*")) if (home / "programs").exists() else True
    assert not list((home / "staging").iterdir()) if (home / "staging").exists() else True


@pytest.fixture
def many_files_project(tmp_path: Path) -> Path:
    """A project with many small files, one of several MiB, an executable and an empty one."""
    project = tmp_path / "many"
    (project / "src").mkdir(parents=True)
    (project / "samepack.yaml").write_text(
        "apiVersion: samepack.dev/v1\nkind: Program\nmetadata: {name: many, version: '1'}\n"
        "steps: {main: {run: python src/m0.py}}\n")
    rng = random.Random(3)
    for index in range(MANY):
        folder = project / "src" / f"pkg{index // 40}"
        folder.mkdir(exist_ok=True)
        (folder / f"m{index}.py").write_bytes(rng.randbytes(rng.randint(1, 4000)))
    (project / "src" / "big.bin").write_bytes(rng.randbytes(3 * 1024 * 1024 + 17))
    (project / "src" / "tool.sh").write_text("#!/bin/sh\necho tool\n")
    (project / "src" / "tool.sh").chmod(0o755)
    (project / "src" / "empty.txt").write_bytes(b"")
    return project


@pytest.mark.slow
def test_many_files_import_like_tar_extracts_them(many_files_project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "SAMEPACK_HOME": str(home)}
    bundle = tmp_path / "many.tgz"
    for args in (("create", "program", "-f", str(many_files_project / "samepack.yaml")),
                 ("export", "program", "-n", "many", "-o", str(bundle), "--runs", "none")):
        subprocess.run([sys.executable, "-m", "samepack", *args], env=env, check=True,
                       capture_output=True)
    other = tmp_path / "other-home"
    done = _import(bundle, other)
    assert done.returncode == 0, done.stderr
    entry = other / "programs" / "many" / "1"
    with tarfile.open(bundle) as archive:
        members = [m for m in archive if m.isfile() and m.name != "samepack-bundle.json"]
        assert len(members) > MANY
        for member in members:
            staged = entry / member.name
            assert staged.read_bytes() == archive.extractfile(member).read(), member.name
            assert staged.stat().st_mode & 0o777 == member.mode, member.name
    assert not list((other / "staging").iterdir())


@pytest.mark.slow
def test_defect_after_the_file_maker_started_is_refused(tmp_path: Path) -> None:
    members = _many()
    bad = list(members)
    bad[MANY - 50] = _tampered(members[MANY - 50])
    bundle = craft(tmp_path / "late.tgz", bad, [(m[0], m[1], m[2]) for m in members])
    home = tmp_path / "home"
    done = _import(bundle, home)
    assert done.returncode == 7, done.stderr
    assert f"{members[MANY - 50][0]!r}: sha256 differs" in done.stderr
    _assert_nothing_left(home)


@pytest.mark.slow
def test_first_defect_is_reported_when_a_later_one_follows(tmp_path: Path) -> None:
    members = _many()
    bad = list(members)
    bad[300] = _tampered(members[300])
    bad[350] = reg("code/unlisted.py")
    bundle = craft(tmp_path / "two.tgz", bad, [(m[0], m[1], m[2]) for m in members])
    home = tmp_path / "home"
    done = _import(bundle, home)
    assert done.returncode == 7, done.stderr
    assert f"{members[300][0]!r}: sha256 differs" in done.stderr
    assert "unlisted" not in done.stderr
    _assert_nothing_left(home)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dotdot", "symlink-escape", "hash-mismatch", "duplicate-case",
                                  "unknown-format", "non-utf8-name", "missing-member",
                                  "manifest-not-first"])
def test_refusal_from_the_verifying_child_is_the_same(name: str, tmp_path: Path,
                                                       samepack) -> None:
    """The CLI verifies in a child process; its refusal reaches the user unchanged."""
    bundle = craft(tmp_path / f"{name}.tgz", **CASES[name])
    home = tmp_path / "home"
    done = _import(bundle, home)
    in_process = samepack("import", bundle)
    assert done.returncode == in_process.exit_code == 7, done.stderr
    assert done.stderr == in_process.stderr
    _assert_nothing_left(home)


def test_crafted_many_files_verify_in_process(tmp_path: Path, samepack) -> None:
    """The same archive through the in-process CLI (files created without a child)."""
    members = _many()
    bad = list(members)
    bad[MANY - 1] = reg(members[MANY - 1][0], members[MANY - 1][1], 0o755)
    bundle = craft(tmp_path / "mode.tgz", bad, [(m[0], m[1], m[2]) for m in members])
    result = samepack("import", bundle)
    assert result.exit_code == 7 and "mode 0755 differs" in result.stderr, result.stderr


_SNIPPET = """
import os, sys
from pathlib import Path
from samepack.bundle.read.staging import StagingSink
from samepack.bundle.format.manifest import Member

root, count, failure = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
members = [Member(f"code/d{i // 100}/f{i}.txt", 3, 0o644, "0" * 64) for i in range(count)]
if failure == "exists":
    (root / "code" / "d3").mkdir(parents=True)
    (root / "code" / "d3" / "f350.txt").write_bytes(b"old")
try:
    with StagingSink(root) as sink:
        for index, member in enumerate(members):
            if failure == "raise" and index == 300:
                raise RuntimeError("verification failed")
            sink.whole(member, memoryview(b"%03d" % (index % 1000)))
        stream = sink(Member("code/big.bin", 5 << 20, 0o755, "0" * 64))
        for _ in range(5):
            stream.write(b"z" * (1 << 20))
        stream.close()
        stream = sink(Member("code/small.bin", 10, 0o644, "0" * 64))  # streamed, yet small
        stream.write(b"01234")
        stream.write(b"56789")
        stream.close()
except Exception as error:
    print(type(error).__name__, error)
"""


def _sink(root: Path, count: int, failure: str) -> str:
    root.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-c", _SNIPPET, str(root), str(count), failure],
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize("count", [10, MANY])
def test_staging_sink_creates_every_file(tmp_path: Path, count: int) -> None:
    assert _sink(tmp_path / "stage", count, "none") == ""
    files = sorted(p for p in (tmp_path / "stage").rglob("*") if p.is_file())
    assert len(files) == count + 2
    assert (tmp_path / "stage" / "code" / "d0" / "f7.txt").read_bytes() == b"007"
    assert (tmp_path / "stage" / "code" / "small.bin").read_bytes() == b"0123456789"
    big = tmp_path / "stage" / "code" / "big.bin"
    assert big.read_bytes() == b"z" * (5 << 20) and big.stat().st_mode & 0o777 == 0o755


def test_staging_sink_reports_the_child_error(tmp_path: Path) -> None:
    """A file that already exists (O_EXCL) fails in the child; the parent raises it."""
    assert _sink(tmp_path / "stage", MANY, "exists").startswith("FileExistsError")


def test_staging_sink_stops_the_child_on_failure(tmp_path: Path) -> None:
    assert _sink(tmp_path / "stage", MANY, "raise") == "RuntimeError verification failed"
    created = [p for p in (tmp_path / "stage").rglob("*") if p.is_file()]
    assert len(created) <= 300


def test_staging_sink_in_process(tmp_path: Path) -> None:
    """Beside other threads (pytest's), files are created in this process, same result."""
    with StagingSink(tmp_path) as sink:
        for index in range(MANY):
            sink.whole(Member(f"code/f{index}.py", 1, 0o755 if index % 2 else 0o644, "0" * 64),
                       memoryview(b"x"))
        stream = sink(Member("code/big.bin", 6, 0o644, "0" * 64))
        stream.write(b"abc")
        stream.write(memoryview(b"def"))
        stream.close()
    assert (tmp_path / "code" / "big.bin").read_bytes() == b"abcdef"
    assert (tmp_path / "code" / "f1.py").stat().st_mode & 0o777 == 0o755
    assert len(list((tmp_path / "code").iterdir())) == MANY + 1


def _gzip_members(data: bytes, piece: int) -> bytes:
    return b"".join(gzip.compress(data[i:i + piece], mtime=0) for i in range(0, len(data), piece))


def test_decoder_views_and_windows_across_members(tmp_path: Path) -> None:
    data = random.Random(1).randbytes(3 * 1024 * 1024 + 123)
    path = tmp_path / "stream.gz"
    path.write_bytes(_gzip_members(data, 700_000))
    with open(path, "rb") as handle:
        decoder = Decoder(RawReader(handle), "gzip", max_output=len(data))
        assert decoder.next_is(data[:5]) and not decoder.next_is(b"nope")
        assert bytes(decoder.view(2_000_000)) == data[5:2_000_005]
        buffer, start = decoder.window(1_500_000)
        assert buffer[start:start + 1_000_000] == data[2_000_005:3_000_005]
        decoder.position = start + 1_000_000
        assert decoder.read(10**9) == data[3_000_005:]
        assert decoder.read(1) == b"" and bytes(decoder.view(1)) == b""


def test_canonical_block_is_the_written_header() -> None:
    for path, size, mode in [("code/a.py", 0, 0o644), ("code/" + "x" * 95, 8**11 - 1, 0o755),
                             ("program/samepack.yaml", 880, 0o644)]:
        assert canonical_block(path, size, mode) == member_header(path, size, mode)
    assert canonical_block("code/" + "x" * 96, 1, 0o644) is None
    assert canonical_block("code/caf\u00e9.py", 1, 0o644) is None


@pytest.mark.parametrize("name", ["code/a.py", "code/.gitignore", "code/..a", "code/a..",
                                  "code/...", "code/a b/c~.py", "code/caf\u00e9.py", "1:x"])
def test_plain_and_unusual_names_pass(name: str) -> None:
    check_name(name)


@pytest.mark.parametrize("name", ["", ".", "..", "/a", "a/", "a//b", "./a", "../a", "a/.",
                                  "a/..", "a/./b", "a/../b", "C:x", "c:", "a\\b", "a\x7fb", "a\nb",
                                  "a\ud800b", "a\udcffb"])
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(VerificationError):
        check_name(name)


def test_manifest_names_the_first_bad_member() -> None:
    """Members are checked in bulk, but an error names the first bad field, in order."""
    raw = manifest_for([("code/a.py", b"a", 0o644), ("code/b.py", b"b", 0o644),
                        ("code/c.py", b"c", 0o644)])
    parsed = Manifest.from_bytes(raw)
    assert [m.path for m in parsed.members()] == ["code/a.py", "code/b.py", "code/c.py"]
    assert parsed.to_bytes() == raw
    data = json.loads(raw)
    members = data["parts"][0]["members"]
    members[1]["sha256"] = members[1]["sha256"].upper()
    members[2]["mode"] = "0600"
    with pytest.raises(VerificationError, match=r"members\[1\]\.sha256"):
        Manifest.from_bytes(canonical_json(data))
    members[1]["sha256"] = members[1]["sha256"].lower()
    with pytest.raises(VerificationError, match=r"members\[2\]\.mode"):
        Manifest.from_bytes(canonical_json(data))
