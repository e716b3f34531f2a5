"""Crafted archives that must be refused before anything becomes visible: each gives one
`error:` line, exit code 7 (verification) and leaves no program, no staging directory and no
file outside the store."""

from __future__ import annotations

import gzip
import io
import tarfile
import unicodedata
from pathlib import Path

import pytest

from samepack.bundle.format.manifest import MANIFEST_NAME
from tests.bundle.conftest import add, manifest_for, register

CANARY = "canary-outside"
REG, SYM, LNK = tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE


def craft(path: Path, members: list[tuple], listed: list[tuple] | None = None, *,
          version: int = 1, manifest_first: bool = True, encoding_errors: str = "strict",
          fmt: int = tarfile.PAX_FORMAT) -> Path:
    """``members``: (name, data, mode, kind, linkname); ``listed`` (path, data, mode) goes into
    the manifest (default: the regular members as they are)."""
    if listed is None:
        listed = [(m[0], m[1], m[2]) for m in members if m[3] == REG]
    manifest = manifest_for(listed, version)
    with tarfile.open(path, "w:gz", format=fmt, encoding="utf-8",
                      errors=encoding_errors) as archive:
        if manifest_first:
            add(archive, MANIFEST_NAME, manifest)
        for name, data, mode, kind, linkname in members:
            add(archive, name, data, mode, kind, linkname)
        if not manifest_first:
            add(archive, MANIFEST_NAME, manifest)
    return path


def reg(name: str, data: bytes = b"print(1)\n", mode: int = 0o644) -> tuple:
    return (name, data, mode, REG, "")


NFD = unicodedata.normalize("NFD", "code/caf\u00e9.py")
NON_UTF8 = b"code/\xff\xfe.py".decode("utf-8", "surrogateescape")

CASES: dict[str, dict] = {
    "dotdot": {"members": [reg(f"../{CANARY}")]},
    "nested-dotdot": {"members": [reg(f"code/../../{CANARY}")]},
    "dot-dotdot": {"members": [reg(f"./../{CANARY}")]},
    "dot-segments": {"members": [reg("code/./../..")]},
    "deep-dotdot": {"members": [reg(f"code/a/../../../../{CANARY}")]},
    "backslash-dotdot": {"members": [reg(f"..\\{CANARY}")]},
    "absolute": {"members": [reg("/ABS/" + CANARY)]},
    "windows-drive": {"members": [reg("C:\\" + CANARY)]},
    "double-slash": {"members": [reg("//" + CANARY)]},
    "windows-path": {"members": [reg("code\\sub\\x.py")]},
    "symlink-escape": {"members": [("code/link", b"", 0o777, SYM, "../../" + CANARY)]},
    "symlink-in-tree": {"members": [reg("code/a.py"), ("code/b.py", b"", 0o777, SYM, "a.py")]},
    "hardlink-escape": {"members": [("code/hard", b"", 0o644, LNK, "/etc/passwd")]},
    "link-then-file": {"members": [("code/d", b"", 0o777, SYM, "/ABS"),
                                   reg("code/d/" + CANARY)],
                       "listed": [("code/d/" + CANARY, b"print(1)\n", 0o644)]},
    "char-device": {"members": [("code/null", b"", 0o644, tarfile.CHRTYPE, "")]},
    "block-device": {"members": [("code/disk", b"", 0o644, tarfile.BLKTYPE, "")]},
    "fifo": {"members": [("code/pipe", b"", 0o644, tarfile.FIFOTYPE, "")]},
    "directory-member": {"members": [("code/dir", b"", 0o755, tarfile.DIRTYPE, "")]},
    "setuid": {"members": [reg("code/tool", b"x", 0o4755)],
               "listed": [("code/tool", b"x", 0o755)]},
    "setgid": {"members": [reg("code/tool", b"x", 0o2755)],
               "listed": [("code/tool", b"x", 0o755)]},
    "duplicate": {"members": [reg("code/a.py"), reg("code/a.py", b"evil")],
                  "listed": [("code/a.py", b"print(1)\n", 0o644)]},
    "duplicate-case": {"members": [reg("code/A.py"), reg("code/a.py")]},
    "duplicate-unicode": {"members": [reg("code/caf\u00e9.py"), reg(NFD)]},
    "not-in-manifest": {"members": [reg("code/a.py"), reg("code/extra.py")],
                        "listed": [("code/a.py", b"print(1)\n", 0o644)]},
    "missing-member": {"members": [reg("code/a.py")],
                       "listed": [("code/a.py", b"print(1)\n", 0o644),
                                  ("code/b.py", b"x", 0o644)]},
    "size-mismatch": {"members": [reg("code/a.py")],
                      "listed": [("code/a.py", b"print(1)\n\n", 0o644)]},
    "hash-mismatch": {"members": [reg("code/a.py", b"print(2)\n")],
                      "listed": [("code/a.py", b"print(1)\n", 0o644)]},
    "mode-mismatch": {"members": [reg("code/a.py", b"x", 0o755)],
                      "listed": [("code/a.py", b"x", 0o644)]},
    "outside-part": {"members": [reg("program/samepack.yaml")]},
    "control-char": {"members": [reg("code/a\nb.py")]},
    "manifest-not-first": {"members": [reg("code/a.py")], "manifest_first": False},
    "unknown-format": {"members": [reg("code/a.py")], "version": 4},
    "non-utf8-name": {"members": [reg(NON_UTF8)], "listed": [],
                      "encoding_errors": "surrogateescape", "fmt": tarfile.GNU_FORMAT},
}


@pytest.fixture
def canaries(tmp_path: Path, samepack_home: Path) -> list[Path]:
    return [tmp_path / CANARY, samepack_home / CANARY, samepack_home.parent / CANARY,
            Path("/ABS") / CANARY, Path("/") / CANARY, Path("/tmp") / CANARY]


def assert_refused(samepack, bundle: Path, home: Path, canaries: list[Path], *extra: str) -> str:
    result = samepack("import", bundle, *extra)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if not line.startswith("hint:")]
    assert result.exit_code == 7, result.stderr
    assert len(errors) == 1 and errors[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert not list((home / "programs").glob("*/*")) if (home / "programs").exists() else True
    assert not list((home / "staging").iterdir()) if (home / "staging").exists() else True
    for canary in canaries:
        assert not canary.exists(), canary
    return errors[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_crafted_archive_is_refused(name: str, tmp_path: Path, samepack, samepack_home: Path,
                                    canaries: list[Path]) -> None:
    bundle = craft(tmp_path / f"{name}.tgz", **CASES[name])
    message = assert_refused(samepack, bundle, samepack_home, canaries)
    # the verifier agrees and nothing is imported either way
    assert samepack("verify", bundle).exit_code == 7
    assert message


EXPECTED_REASON = {
    "dotdot": "leaves the bundle", "absolute": "absolute", "windows-drive": "backslash",
    "symlink-escape": "link", "hardlink-escape": "link", "char-device": "device",
    "fifo": "FIFO", "setuid": "setuid", "duplicate": "duplicate", "duplicate-case": "duplicate",
    "duplicate-unicode": "duplicate", "not-in-manifest": "not listed", "missing-member": "missing",
    "size-mismatch": "size", "hash-mismatch": "sha256", "manifest-not-first": "first member",
    "unknown-format": "unknown bundle format version", "non-utf8-name": "UTF-8",
}


@pytest.mark.parametrize("name", sorted(EXPECTED_REASON))
def test_refusal_names_the_reason(name: str, tmp_path: Path, samepack) -> None:
    bundle = craft(tmp_path / f"{name}.tgz", **CASES[name])
    result = samepack("verify", bundle)
    assert EXPECTED_REASON[name] in result.stderr, result.stderr


@pytest.fixture
def good_bundle(mini_project: Path, tmp_path: Path, samepack) -> Path:
    register(mini_project)
    out = tmp_path / "good.tgz"
    assert samepack("export", "program", "-n", "mini", "-o", out).exit_code == 0
    return out


def test_truncated_bundle(good_bundle: Path, tmp_path: Path, samepack, samepack_home: Path,
                          canaries) -> None:
    from samepack.store import Store

    for program in Store().list():  # the export registered one; start from an empty store
        import shutil
        shutil.rmtree(program.path)
    data = good_bundle.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 100):
        broken = tmp_path / f"cut-{cut}.tgz"
        broken.write_bytes(data[:cut])
        message = assert_refused(samepack, broken, samepack_home, canaries)
        assert "truncated" in message or "does not match" in message or "damaged" in message


def test_concatenated_archive(good_bundle: Path, tmp_path: Path, samepack, samepack_home: Path,
                              canaries) -> None:
    from samepack.store import Store

    for program in Store().list():
        import shutil
        shutil.rmtree(program.path)
    extra = io.BytesIO()
    with tarfile.open(fileobj=extra, mode="w:gz") as archive:
        add(archive, "code/evil.py", b"import os\n")
    appended = tmp_path / "appended.tgz"
    appended.write_bytes(good_bundle.read_bytes() + extra.getvalue())
    message = assert_refused(samepack, appended, samepack_home, canaries)
    assert "follow the end" in message


def test_flipped_byte_in_a_segment(good_bundle: Path, tmp_path: Path, samepack) -> None:
    data = bytearray(good_bundle.read_bytes())
    data[-30] ^= 0xFF  # inside the data part's last frame or the trailer
    broken = tmp_path / "flipped.tgz"
    broken.write_bytes(bytes(data))
    assert samepack("verify", broken).exit_code == 7


def test_decompression_bomb(tmp_path: Path, samepack, samepack_home: Path, canaries) -> None:
    zeros = bytes(80 * 1024 * 1024)
    bundle = craft(tmp_path / "bomb.tgz", [reg("code/zeros.bin", zeros)])
    assert bundle.stat().st_size < 1024 * 1024
    message = assert_refused(samepack, bundle, samepack_home, canaries)
    assert "expands more than" in message
    message = assert_refused(samepack, bundle, samepack_home, canaries, "--max-size", "10MB")
    assert "over the limit" in message


def test_enormous_declared_size(tmp_path: Path, samepack, samepack_home: Path,
                                canaries) -> None:
    huge = 1 << 50
    manifest = manifest_for([("code/huge.bin", b"", 0o644)]).replace(b'"size":0', f'"size":{huge}'.encode())
    path = tmp_path / "huge.tgz"
    with tarfile.open(path, "w:gz") as archive:
        add(archive, MANIFEST_NAME, manifest)
        add(archive, "code/huge.bin", b"", size=huge)
    message = assert_refused(samepack, path, samepack_home, canaries)
    assert "limit" in message


def test_not_a_bundle(tmp_path: Path, samepack) -> None:
    plain = tmp_path / "plain.tgz"
    plain.write_bytes(gzip.compress(b"hello"))
    assert samepack("verify", plain).exit_code == 7
    text = tmp_path / "text.tgz"
    text.write_text("not gzip")
    result = samepack("import", text)
    assert result.exit_code == 7 and "not a gzip or zstd file" in result.stderr
    result = samepack("import", tmp_path / "missing.tgz")
    assert result.exit_code == 3 and result.stderr.startswith("error:")


def test_bad_manifest_json(tmp_path: Path, samepack) -> None:
    path = tmp_path / "badjson.tgz"
    with tarfile.open(path, "w:gz") as archive:
        add(archive, MANIFEST_NAME, b"{not json")
    result = samepack("verify", path)
    assert result.exit_code == 7 and "not valid JSON" in result.stderr
