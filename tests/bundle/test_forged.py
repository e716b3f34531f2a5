"""Forged bundles with consistent manifests (``forge.py``), each aimed at one check, each run
through ``verify``, ``inspect`` and ``import`` in a fresh store in a real subprocess under a
1 GiB address-space limit (a batch of cases per subprocess, each case in its own store and
working directory). Each case asserts: the expected exit code and one ``error:`` line
naming the reason, no traceback or stray exception, no program or staging directory left
behind, nothing written outside the store, and an end within seconds.

The first cases are the control: an honest forged bundle is accepted by all three commands,
so every refusal below is the forged defect's, not the forger's.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from support import REPO_ROOT
from tests.bundle.forge import (Forgery, Raw, forge, header, listed, pax, program_yaml,
                                regular)

CANARY = "canary-outside"
MEMORY_LIMIT = 1024 ** 3
GNU_MAGIC = b"ustar  \0"
DRIVER = Path(__file__).with_name("hostile_driver.py")
CODE = b"print('forged')\n"


def code(*raws: Raw) -> Forgery:
    return Forgery(raw={"code": list(raws)}).with_program()


def raw(data: bytes, name: str = "code/a.py", content: bytes = CODE) -> Raw:
    return Raw(data, listed(name, content))


def files(mapping: dict[str, bytes], **options) -> Forgery:
    return Forgery(files=dict(mapping), **options).with_program()


def program(text: bytes | str) -> Forgery:
    return Forgery(files={"program/samepack.yaml": text.encode() if isinstance(text, str)
                          else text})


def edited(change: Callable[[dict], None]) -> Forgery:
    return Forgery(files={"code/a.py": CODE}, edit=change).with_program()


def runs(*lines: str) -> Forgery:
    return files({"metadata/runs.jsonl": "\n".join(lines).encode() + b"\n"})


def pointers(text: str) -> Forgery:
    return files({"data/pointers.json": text.encode()})


def sparse_tail(size: int) -> bytes:
    """GNU sparse fields from byte 345: one map entry (offset 0, ``size`` bytes), and a
    real size far beyond the data, whose bytes swallow what follows in other readers."""
    entry = b"%011o\0" % 0 + b"%011o\0" % size
    return bytes(41) + entry + bytes(72) + b"\0" + b"%011o\0" % (size + 8 * 512)


def pax_bomb() -> Forgery:
    """A pax header claiming 1 GiB of records, the GiB there (as 64 gzip members of 16 MiB
    of zeros, about 1 MB): old readers held it all to parse it."""
    zeros = gzip.compress(bytes(16 * 1024 * 1024), compresslevel=9, mtime=0) * 64
    return code(Raw(header("./PaxHeaders/a.py", 1 << 30, b"x"), None, frames=zeros),
                raw(regular("code/a.py", CODE)))


def deep_yaml() -> str:
    return (program_yaml().decode() + "x-deep: " + "[" * 5000 + "]" * 5000 + "\n")


def alias_bomb() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return program_yaml().decode() + "\n".join(lines) + "\n"


DATA_PROGRAM = program_yaml(extra="datasets:\n  table: {path: x/t.csv}\n")
RUN = '{"id":"r1","program":"forged","version":"1.0","status":"succeeded"'

# name -> (forgery, {command: (exit code, reason in the error line)}); "all" for every command
REFUSED = 7
CASES: dict[str, tuple[Callable[[], Forgery], dict]] = {
    # controls: the forger writes bundles samepack accepts
    "honest": (lambda: files({"code/a.py": CODE}), {"all": (0, None)}),
    "honest-raw": (lambda: code(raw(regular("code/a.py", CODE))), {"all": (0, None)}),
    "honest-pax-name": (lambda: code(raw(pax({"path": "code/caf\u00e9.py"},
                                             regular("code/caf_.py", CODE)),
                                         "code/caf\u00e9.py")), {"all": (0, None)}),
    "markup-names": (lambda: files({"code/[/].py": CODE, "code/[bold]x[/bold].py": CODE}),
                     {"all": (0, None), "inspect-shows": "[/].py"}),
    "as-valid": (lambda: files({"code/a.py": CODE}), {"all": (0, None), "as": "other:2.0"}),
    # member types: only a regular file, after at most one pax header
    "gnu-sparse": (lambda: code(raw(header("code/a.py", len(CODE), b"S", magic=GNU_MAGIC,
                                           tail=sparse_tail(len(CODE))) + CODE + bytes(496))),
                   {"all": (REFUSED, "GNU sparse")}),
    "pax-sparse-1.0": (lambda: code(raw(pax({"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
                                             "GNU.sparse.name": "code/a.py",
                                             "GNU.sparse.realsize": "99999"},
                                            regular("code/a.py", CODE)))),
                       {"all": (REFUSED, "pax record 'GNU.sparse")}),
    "pax-sparse-0.0": (lambda: code(raw(pax({"GNU.sparse.size": "9999",
                                             "GNU.sparse.numblocks": "1",
                                             "GNU.sparse.offset": "0",
                                             "GNU.sparse.numbytes": str(len(CODE))},
                                            regular("code/a.py", CODE)))),
                       {"all": (REFUSED, "pax record 'GNU.sparse")}),
    "gnu-longname": (lambda: code(raw(regular("././@LongLink", b"code/a.py\0", b"L",
                                              magic=GNU_MAGIC) + regular("code/a.py", CODE))),
                     {"all": (REFUSED, "GNU long-name")}),
    "gnu-longlink": (lambda: code(raw(regular("././@LongLink", b"/etc/passwd\0", b"K",
                                              magic=GNU_MAGIC) + regular("code/a.py", CODE))),
                     {"all": (REFUSED, "GNU long-link")}),
    "pax-global": (lambda: code(raw(regular("pax_global_header", b"11 path=x\n", b"g")
                                    + regular("code/a.py", CODE))),
                   {"all": (REFUSED, "global header")}),
    "v7-regular": (lambda: code(raw(regular("code/a.py", CODE, b"\0"))),
                   {"all": (REFUSED, "V7")}),
    "contiguous": (lambda: code(raw(regular("code/a.py", CODE, b"7"))),
                   {"all": (REFUSED, "contiguous")}),
    "symlink": (lambda: code(raw(header("code/a.py", 0, b"2", linkname=f"../../{CANARY}"),
                                 content=b"")), {"all": (REFUSED, "symbolic link")}),
    "hardlink": (lambda: code(raw(header("code/a.py", 0, b"1", linkname="/etc/passwd"),
                                  content=b"")), {"all": (REFUSED, "hard link")}),
    "char-device": (lambda: code(raw(header("code/a.py", 0, b"3"), content=b"")),
                    {"all": (REFUSED, "device")}),
    "block-device": (lambda: code(raw(header("code/a.py", 0, b"4"), content=b"")),
                     {"all": (REFUSED, "device")}),
    "directory": (lambda: code(raw(header("code/a.py", 0, b"5"), content=b"")),
                  {"all": (REFUSED, "directory")}),
    "fifo": (lambda: code(raw(header("code/a.py", 0, b"6"), content=b"")),
             {"all": (REFUSED, "FIFO")}),
    "unknown-type": (lambda: code(raw(regular("code/a.py", CODE, b"Z"))),
                     {"all": (REFUSED, "tar type")}),
    "pax-then-symlink": (lambda: code(raw(pax({"path": "code/a.py"},
                                              header("code/a.py", 0, b"2", linkname="/etc")),
                                          content=b"")),
                         {"all": (REFUSED, "not a regular file")}),
    "pax-chain": (lambda: code(raw(pax({"path": "code/a.py"},
                                       pax({"path": "code/b.py"}, regular("code/a.py", CODE))))),
                  {"all": (REFUSED, "not a regular file")}),
    "pax-linkpath": (lambda: code(raw(pax({"linkpath": "/etc/passwd"},
                                          regular("code/a.py", CODE)))),
                     {"all": (REFUSED, "pax record 'linkpath'")}),
    "pax-uid": (lambda: code(raw(pax({"uid": "0"}, regular("code/a.py", CODE)))),
                {"all": (REFUSED, "pax record 'uid'")}),
    "pax-hdrcharset": (lambda: code(raw(pax({"hdrcharset": "BINARY"},
                                            regular("code/a.py", CODE)))),
                       {"all": (REFUSED, "pax record 'hdrcharset'")}),
    "pax-path-dotdot": (lambda: code(raw(pax({"path": f"../{CANARY}"},
                                             regular("code/a.py", CODE)))),
                        {"all": (REFUSED, "leaves the bundle")}),
    "pax-size-lies": (lambda: code(raw(pax({"size": "4096"}, regular("code/a.py", CODE)))),
                      {"all": (REFUSED, "size")}),
    "pax-claims-1GiB": (pax_bomb, {"all": (REFUSED, "pax extended header claims")}),
    "pax-claims-over-limit": (lambda: code(raw(pax({"path": "code/a.py"}, regular(
        "code/a.py", CODE), claimed=65 * 1024))), {"all": (REFUSED, "over the limit")}),
    "bad-size-field": (lambda: code(raw(header("code/a.py", 0, size_field=b"-0000000001\0")
                                        + CODE + bytes(496))),
                       {"all": (REFUSED, "damaged")}),
    # names
    "c1-control": (lambda: files({"code/a\x85b.py": CODE}), {"all": (REFUSED, "control")}),
    "bidi-override": (lambda: files({"code/\u202eyp.txt": CODE}),
                      {"all": (REFUSED, "bidirectional")}),
    "bidi-isolate": (lambda: files({"code/a\u2066b.py": CODE}),
                     {"all": (REFUSED, "bidirectional")}),
    "deep-path": (lambda: files({"code/" + "a/" * 1000 + "x.py": CODE}),
                  {"all": (REFUSED, "folders deep")}),
    "path-2100-levels": (lambda: files({"code/" + "a/" * 2100 + "x.py": CODE}),
                         {"all": (REFUSED, "bytes long")}),
    "long-component": (lambda: files({"code/" + "a" * 300 + ".py": CODE}),
                       {"all": (REFUSED, "component")}),
    "long-name": (lambda: files({"code/" + "abcdefgh/" * 600 + "x.py": CODE}),
                  {"all": (REFUSED, "bytes long")}),
    "file-and-folder": (lambda: files({"code/a": CODE, "code/a/b.py": CODE}),
                        {"all": (REFUSED, "which is a file")}),
    "file-and-folder-case": (lambda: files({"code/A": CODE, "code/a/b.py": CODE}),
                             {"all": (REFUSED, "which is a file")}),
    "dotdot-name": (lambda: files({f"code/../../{CANARY}": CODE}),
                    {"all": (REFUSED, "leaves the bundle")}),
    "data-under-a-file": (lambda: Forgery(files={"program/samepack.yaml": DATA_PROGRAM,
                                                 "code/x": CODE, "data/files/x/t.csv": b"a\n"}),
                          {"all": (REFUSED, "which is a file of the bundle")}),
    # the manifest
    "format-true": (lambda: edited(lambda m: m.update(format=True)),
                    {"all": (REFUSED, "unknown bundle format version True")}),
    "format-float": (lambda: edited(lambda m: m.update(format=1.0)),
                     {"all": (REFUSED, "unknown bundle format version 1.0")}),
    "format-string": (lambda: edited(lambda m: m.update(format="1")),
                      {"all": (REFUSED, "unknown bundle format version")}),
    "manifest-deep": (lambda: Forgery(manifest_bytes=b'{"format":1,"x":' + b"[" * 100_000
                                      + b"]" * 100_000 + b"}"),
                      {"all": (REFUSED, "nests too deeply")}),
    "manifest-huge-int": (lambda: Forgery(manifest_bytes=b'{"format":1,"created":'
                                          + b"9" * 5000 + b"}"),
                          {"all": (REFUSED, "not valid JSON")}),
    "created-far-future": (lambda: edited(lambda m: m.update(created=10 ** 15)),
                           {"all": (REFUSED, "not a time")}),
    "part-size-negative": (lambda: edited(lambda m: m["parts"][0].update(size=-1)),
                           {"all": (REFUSED, "negative")}),
    "name-dotdot": (lambda: files({"code/a.py": CODE}, name="../x"),
                    {"all": (REFUSED, "program name")}),
    "name-space": (lambda: files({"code/a.py": CODE}, name="Evil Name"),
                   {"all": (REFUSED, "program name")}),
    "name-slash": (lambda: files({"code/a.py": CODE}, name="a/b"),
                   {"all": (REFUSED, "program name")}),
    "name-control": (lambda: files({"code/a.py": CODE}, name="a\x85"),
                     {"all": (REFUSED, "program name")}),
    "version-dotdot": (lambda: files({"code/a.py": CODE}, version="../.."),
                       {"all": (REFUSED, "program version")}),
    "version-absolute": (lambda: files({"code/a.py": CODE}, version="/abs"),
                         {"all": (REFUSED, "program version")}),
    "program-mismatch": (lambda: Forgery(files={"program/samepack.yaml": program_yaml("other")}),
                         {"all": (REFUSED, "the manifest forged:1.0")}),
    "no-program": (lambda: Forgery(files={"code/a.py": CODE}),
                   {"all": (REFUSED, "has no program/samepack.yaml")}),
    # the program file
    "yaml-alias-bomb": (lambda: program(alias_bomb()), {"all": (REFUSED, "expands to more")}),
    "yaml-aliases": (lambda: program(program_yaml().decode() + "a: &a x\nb: [" +
                                     ", ".join(["*a"] * 1001) + "]\n"),
                     {"all": (REFUSED, "more than 1000 aliases")}),
    "yaml-deep": (lambda: program(deep_yaml()), {"all": (REFUSED, "nested more than")}),
    "yaml-huge-int": (lambda: program(program_yaml().decode() + "x-n: " + "9" * 5000 + "\n"),
                      {"all": (REFUSED, "cannot be read")}),
    "yaml-9MiB": (lambda: program(program_yaml() + b"#" * (9 * 1024 * 1024) + b"\n"),
                  {"all": (REFUSED, "too large for a program file")}),
    "yaml-not-utf8": (lambda: program(b"\xff\xfe" + program_yaml()),
                      {"all": (REFUSED, "not UTF-8")}),
    "yaml-syntax": (lambda: program(program_yaml() + b"x: [\n"), {"all": (REFUSED, "invalid YAML")}),
    "yaml-schema": (lambda: program("apiVersion: samepack.dev/v1\nkind: Program\n"
                                    "metadata: {name: forged, version: '1.0'}\n"),
                    {"all": (REFUSED, "steps")}),
    # the run history
    "runs-not-json": (lambda: runs("{not json"), {"all": (REFUSED, "runs.jsonl:1: not valid")}),
    "runs-array": (lambda: runs("[1, 2]"), {"all": (REFUSED, "not a JSON object")}),
    "runs-id-dotdot": (lambda: runs('{"id":"../x","program":"forged","version":"1.0"}'),
                       {"all": (REFUSED, ".id")}),
    "runs-step-field": (lambda: runs(RUN + ',"steps":[{"nope":1}]}'),
                        {"all": (REFUSED, "unknown field")}),
    "runs-metric-text": (lambda: runs(RUN + ',"metrics":{"acc":"high"}}'),
                         {"all": (REFUSED, "not a number")}),
    "runs-unknown-field": (lambda: runs(RUN + ',"evil":1}'), {"all": (REFUSED, "unknown field")}),
    "runs-status-list": (lambda: runs('{"id":"r1","program":"f","version":"1","status":[1]}'),
                         {"all": (REFUSED, ".status")}),
    "runs-deep": (lambda: runs(RUN + ',"params":{"p":' + "[" * 100_000 + "]" * 100_000 + "}}"),
                  {"all": (REFUSED, "nested too deeply")}),
    "runs-huge-int": (lambda: runs(RUN + ',"params":{"n":' + "9" * 5000 + "}}"),
                      {"all": (REFUSED, "not valid JSON")}),
    "runs-second-line-bad": (lambda: runs(RUN + "}", "{"), {"all": (REFUSED, "runs.jsonl:2")}),
    # the data pointers
    "pointers-not-json": (lambda: pointers("{"), {"all": (REFUSED, "not valid JSON")}),
    "pointers-list": (lambda: pointers("[]"), {"all": (REFUSED, "not an object")}),
    "pointers-member-missing": (lambda: pointers('{"datasets":[{"name":"t",'
                                                 '"member":"data/files/nope"}]}'),
                                {"all": (REFUSED, "not a data file")}),
    "pointers-name-int": (lambda: pointers('{"datasets":[{"name":1}]}'),
                          {"all": (REFUSED, "with a name")}),
    "pointers-size-text": (lambda: pointers('{"datasets":[{"name":"t","size":"big"}]}'),
                           {"all": (REFUSED, "size is not a int")}),
    # import --as: verify and inspect pass, import refuses with an input error
    **{f"as-{label}": (lambda: files({"code/a.py": CODE}),
                       {"verify": (0, None), "inspect": (0, None), "import": (3, reason),
                        "as": value})
       for label, value, reason in [("absolute", "/abs/path:1", "program name"),
                                    ("dotdot", "../../..:1", "program name"),
                                    ("version-dotdot", "x:../..", "program version"),
                                    ("space", "Evil Name:1", "program name"),
                                    ("slash", "a/b:1", "program name"),
                                    ("no-name", ":1", "program name")]},
}


def _expected(spec: dict, command: str) -> tuple[int, str | None]:
    return spec.get(command) or spec["all"]


def _outside(root: Path) -> list[Path]:
    return [root.parent / CANARY, root / CANARY, Path("/tmp") / CANARY, Path("/") / CANARY,
            Path("/abs"), Path("/etc") / CANARY]


BATCH = 15  # bundles per interpreter: its start and samepack's imports are most of the cost


class Runs:
    """Forges the cases and runs them through the driver a batch at a time, on first need."""

    def __init__(self, root: Path) -> None:
        self.root, self.names = root, list(CASES)
        self.reports: dict[str, dict] = {}
        self.seconds: dict[str, float] = {}
        self.before = {p: p.exists() for p in _outside(root)}

    def report(self, name: str) -> dict:
        if name not in self.reports:
            start = self.names.index(name) // BATCH * BATCH
            self._run(self.names[start:start + BATCH])
        return self.reports[name]

    def _run(self, names: list[str]) -> None:
        jobs = []
        for name in names:
            make, spec = CASES[name]
            case = self.root / name
            (case / "cwd").mkdir(parents=True)
            bundle = forge(case / "forged.tgz", make())
            assert bundle.stat().st_size < 4 * 1024 * 1024  # small on disk, whatever it claims
            jobs.append({"bundle": str(bundle), "home": str(case / "home"),
                         "cwd": str(case / "cwd"),
                         "import_args": ["--as", spec["as"]] if "as" in spec else []})
        (self.root / "jobs.json").write_text(json.dumps(jobs))
        env = {**os.environ, "MALLOC_ARENA_MAX": "2", "PYTHONPATH": str(REPO_ROOT)}
        env.pop("SAMEPACK_DEBUG", None)
        started = time.monotonic()
        done = subprocess.run([sys.executable, str(DRIVER), str(MEMORY_LIMIT),
                               str(self.root / "jobs.json")], env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        elapsed = time.monotonic() - started
        for name, report in zip(names, json.loads(done.stdout)):
            self.reports[name], self.seconds[name] = report, elapsed / len(names)


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return Runs(tmp_path_factory.mktemp("forged"))


@pytest.mark.xdist_group("forged")  # one worker runs the batches (bash scripts/test.sh)
@pytest.mark.parametrize("name", list(CASES))
def test_forged_bundle(name: str, batches: Runs) -> None:
    _, spec = CASES[name]
    report = batches.report(name)
    case = batches.root / name
    home, cwd = case / "home", case / "cwd"
    for command in ("verify", "inspect", "import"):
        got = report[command]
        code_wanted, reason = _expected(spec, command)
        assert got["exception"] is None, (command, got["exception"])
        assert "Traceback" not in got["stderr"], (command, got["stderr"])
        assert got["exit"] == code_wanted, (command, got["stderr"])
        assert got["seconds"] < 20, (command, got["seconds"])
        if code_wanted:
            lines = [line for line in got["stderr"].splitlines() if line.strip()]
            errors = [line for line in lines if not line.startswith("hint:")]
            assert len(errors) == 1 and errors[0].startswith("error: "), (command, lines)
            assert reason in errors[0], (command, errors[0])
    if "inspect-shows" in spec:
        assert spec["inspect-shows"] in report["inspect"]["stdout"]
    programs = sorted(p.relative_to(home / "programs")
                      for p in (home / "programs").glob("*/*")) if (home / "programs").exists() else []
    if _expected(spec, "import")[0]:
        assert programs == [], programs
    else:
        wanted = spec.get("as", "forged:1.0").split(":")
        assert programs == [Path(*wanted)]
    staging = home / "staging"
    assert not staging.exists() or not any(staging.iterdir())
    assert not any(cwd.iterdir())
    assert {p.name for p in case.iterdir()} <= {"cwd", "forged.tgz", "home"}
    assert not [p for p in case.rglob("*") if CANARY in p.name]
    assert {p: p.exists() for p in _outside(batches.root)} == batches.before


def test_enough_cases() -> None:
    """The issue asks for at least 60 forged cases."""
    assert len(CASES) >= 60
