"""What a run's start-up skips stays correct: the schema check remembered by digest, GPUs not
asked through NVML without a driver, the collector paused only while modules load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from samepack.cache import DigestSet
from samepack.errors import InputError
from samepack.program import load_program
from samepack.program.schema import CACHE_SET

PROGRAM = """apiVersion: samepack.dev/v1
kind: Program
metadata: {name: quick, version: "1.0"}
steps:
  noop: {run: "python -c pass"}
"""
LOADS_JSONSCHEMA = ("import sys; from samepack.program import load_program; "
                    "load_program(sys.argv[1]); print('jsonschema' in sys.modules)")


def _loads_jsonschema(path: Path) -> bool:
    done = subprocess.run([sys.executable, "-c", LOADS_JSONSCHEMA, str(path)],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip() == "True"


def test_a_document_that_passed_is_not_checked_again(tmp_path):
    path = tmp_path / "samepack.yaml"
    path.write_text(PROGRAM)
    assert _loads_jsonschema(path)  # first sight: checked
    assert len(DigestSet.load(CACHE_SET)) == 1
    assert not _loads_jsonschema(path)  # the same document: remembered
    path.write_text(PROGRAM.replace('"1.0"', '"1.1"'))
    assert _loads_jsonschema(path)  # another document: checked again
    assert len(DigestSet.load(CACHE_SET)) == 2


def test_a_change_that_breaks_the_schema_is_caught_after_a_pass(tmp_path):
    path = tmp_path / "samepack.yaml"
    path.write_text(PROGRAM)
    load_program(path)
    path.write_text(PROGRAM.replace("  noop: {run:", "  noop: {runs:"))
    with pytest.raises(InputError, match=r"samepack.yaml:5: steps.noop.runs: unknown field"):
        load_program(path)
    with pytest.raises(InputError, match="unknown field"):  # a failure is never remembered
        load_program(path)


def test_values_json_would_confuse_are_told_apart(tmp_path):
    """A quoted number and a number, a list and a mapping: each its own record."""
    from samepack.program.schema import _passed_record

    assert _passed_record({"a": "1"}) != _passed_record({"a": 1})
    assert _passed_record({"a": 1}) != _passed_record({"a": 1.0})
    assert _passed_record({"a": True}) != _passed_record({"a": 1})
    assert _passed_record({"a": [1]}) != _passed_record({"a": {1: None}})
    assert _passed_record({"a": "1"}) == _passed_record({"a": "1"})


def test_no_cache_means_every_load_is_checked(tmp_path, monkeypatch, samepack_home):
    path = tmp_path / "samepack.yaml"
    path.write_text(PROGRAM)
    monkeypatch.setenv("SAMEPACK_CACHE", "off")
    assert _loads_jsonschema(path)
    assert _loads_jsonschema(path)
    assert not (samepack_home / "cache" / CACHE_SET).exists()


def test_the_collector_is_back_on_when_the_command_runs(tmp_path):
    """The entry point pauses the cyclic collector for start-up only: a step's command sees
    it on again (the run's command re-enables it once its modules are loaded)."""
    (tmp_path / "samepack.yaml").write_text(PROGRAM)
    code = ("import gc, sys; from samepack.cli import main; import samepack.commands.run as p;"
            "real = p.TARGETS['local']\n"
            "def spy(*a, **k):\n    print('collector on:', gc.isenabled()); return real(*a, **k)\n"
            "p.TARGETS['local'] = spy; sys.argv = ['samepack', 'run', '-f', sys.argv[1]]; main()")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert "collector on: True" in done.stdout


LOADING = """
import gc, sys
from samepack import startup
if sys.argv[1] == "entry":
    startup.pause_collector()
    startup.end_of_startup()
frozen, enabled = gc.get_freeze_count(), gc.isenabled()
with startup.loading():
    import samepack.run.local
    paused = not gc.isenabled()
print(paused, enabled == gc.isenabled(), gc.get_freeze_count() > frozen + 1000)
"""


@pytest.mark.parametrize("mode, expected", [("entry", "True True True"),
                                            ("library", "False True False")])
def test_what_a_started_command_loads_is_frozen_like_start_up(mode, expected):
    """Modules a command imports once it has started (the runner) load with the collector
    paused and are frozen after, in the command-line process; a program using samepack as a
    library keeps its collector as it was and nothing is frozen."""
    done = subprocess.run([sys.executable, "-c", LOADING, mode], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == expected.split()


def test_a_yaml_date_is_remembered_apart_from_its_text():
    import datetime

    from samepack.program.schema import _passed_record

    day = _passed_record({"v": datetime.date(2024, 1, 2)})
    assert day is not None and day != _passed_record({"v": "2024-01-02"})


def test_a_samepack_yaml_loads_no_other_formats_translator(tmp_path):
    """The other formats' translators load only when a file needs them, and still load then."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "samepack.yaml").write_text(PROGRAM)
    code = ("import sys; from samepack.program import load_program; load_program(sys.argv[1]); "
            "print(sorted(m for m in sys.modules if m.endswith(('ame_format', 'same_format', "
            "'mlproject', 'translate'))))")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "a")], capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]"
    repo = Path(__file__).resolve().parents[2]
    program = load_program(repo / "fixtures" / "legacy" / "ame-v1" / "ame.yaml", show_warnings=False)
    assert program.source_format.startswith("ame")


RICH_PROGRAM = """apiVersion: samepack.dev/v1
kind: Program
metadata: {name: rich, version: "2.0", labels: {zeta: z, alpha: a}}
environment: {python: "3.11"}
resources: {cpu: 500m, memory: 1Gi}
parameters:
  alpha: {type: float, default: 0.5, choices: [0.5, 1.5]}
  seed: {default: 7}
  name: {type: str, optional: true}
datasets:
  wine: {path: data/wine.csv}
secrets:
  - {name: token, env: TOKEN, steps: [train]}
env: {ZED: "1", ABLE: "2"}
steps:
  prepare: {run: "python -c pass", env: {Z: "1", A: "2"}}
  train:
    run: "python train.py --alpha {params.alpha} {datasets.wine}"
    needs: [prepare]
    resources: {gpus: 1}
    metrics: [{pattern: "^loss: (?P<value>[0-9.]+)$", name: loss}]
schedules:
  nightly: {cron: "0 3 * * *", params: {seed: 1}, steps: [train]}
"""
LOADED = ("import sys; from samepack.program import load_program; "
          "program = load_program(sys.argv[1]); print('yaml' in sys.modules); print(repr(program))")


def _load_in_a_process(path: Path, env: dict | None = None) -> tuple[bool, str]:
    import os

    done = subprocess.run([sys.executable, "-c", LOADED, str(path)], capture_output=True,
                          text=True, check=True, env={**os.environ, **(env or {})})
    parsed, shown = done.stdout.splitlines()
    return parsed == "True", shown


def _records(home: Path) -> list[Path]:
    from samepack.program.remembered import CACHE_DIR

    return sorted((home / "cache" / CACHE_DIR).glob("*.json"))


def test_a_loaded_program_is_read_back_exactly_without_parsing_again(tmp_path, samepack_home):
    """The second load of an unchanged samepack.yaml imports no YAML parser and gives the very
    same program: every field, its types, and the order of every mapping (env, labels)."""
    path = tmp_path / "samepack.yaml"
    path.write_text(RICH_PROGRAM)
    parsed, first = _load_in_a_process(path)
    assert parsed and len(_records(samepack_home)) == 1
    parsed, again = _load_in_a_process(path)
    assert not parsed and again == first
    assert "env={'ZED': '1', 'ABLE': '2'}" in again and "'zeta': 'z', 'alpha': 'a'" in again
    assert again == repr(load_program(path))


def test_any_change_to_the_file_loads_it_afresh(tmp_path, samepack_home):
    path = tmp_path / "samepack.yaml"
    path.write_text(RICH_PROGRAM)
    _load_in_a_process(path)
    path.write_text(RICH_PROGRAM.replace('default: 7', 'default: 8'))  # one byte, same size
    parsed, shown = _load_in_a_process(path)
    assert parsed and "default=8" in shown and len(_records(samepack_home)) == 2
    path.write_text(RICH_PROGRAM.replace("  seed: {default: 7}", "  seed: {defaults: 7}"))
    with pytest.raises(InputError, match="seed.defaults: unknown field"):
        load_program(path)  # a file that fails is never remembered, and fails each time
    with pytest.raises(InputError, match="unknown field"):
        load_program(path)
    assert len(_records(samepack_home)) == 2


def test_the_same_bytes_elsewhere_are_their_own_program(tmp_path, samepack_home):
    """Where the file lies is part of the program (its source and project directory)."""
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "samepack.yaml").write_text(PROGRAM)
        load_program(tmp_path / name)
    assert load_program(tmp_path / "two").project_dir == str((tmp_path / "two").resolve())
    assert len(_records(samepack_home)) == 2


def test_a_damaged_record_is_a_miss(tmp_path, samepack_home):
    path = tmp_path / "samepack.yaml"
    path.write_text(RICH_PROGRAM)
    _, first = _load_in_a_process(path)
    for damage in (b"{not json", b'{"format": 1, "program": {"name": "x"}}', b"[]"):
        _records(samepack_home)[0].write_bytes(damage)
        parsed, shown = _load_in_a_process(path)
        assert parsed and shown == first  # loaded afresh, and remembered again
    parsed, shown = _load_in_a_process(path)
    assert not parsed and shown == first


def test_other_formats_and_a_cache_turned_off_are_never_remembered(tmp_path, samepack_home):
    repo = Path(__file__).resolve().parents[2]
    load_program(repo / "fixtures" / "legacy" / "ame-v1" / "ame.yaml", show_warnings=False)
    assert _records(samepack_home) == []
    path = tmp_path / "samepack.yaml"
    path.write_text(PROGRAM)
    assert _load_in_a_process(path, {"SAMEPACK_CACHE": "off"})[0]
    assert _load_in_a_process(path, {"SAMEPACK_CACHE": "off"})[0]
    assert _records(samepack_home) == []


def test_a_program_that_does_not_read_back_exactly_is_not_remembered(tmp_path, samepack_home):
    """A value JSON cannot carry (a tuple) would read back as another type: no record."""
    from samepack.program.remembered import recall, remember

    path = tmp_path / "samepack.yaml"
    path.write_text(PROGRAM)
    program = load_program(path)
    raw = path.read_bytes()
    program.steps["noop"].needs = ("a",)  # type: ignore[assignment]
    records = _records(samepack_home)
    for record in records:
        record.unlink()
    remember(path.resolve(), raw, ["samepack"], program)
    assert _records(samepack_home) == [] and recall(path.resolve(), raw, ["samepack"]) is None


def test_a_registered_program_is_read_back_while_it_has_its_digest(tmp_path, samepack_home):
    """``run program NAME`` loads the store's canonical file: remembered by its bytes and the
    entry's digest, so the second load parses nothing and gives the same program."""
    from samepack.store import Store

    (tmp_path / "samepack.yaml").write_text(RICH_PROGRAM)
    Store().register(load_program(tmp_path / "samepack.yaml"), tmp_path, "here")
    code = ("import sys; from samepack.store import Store; program = Store().get('rich:2.0').program;"
            "print('yaml' in sys.modules); print(repr(program))")

    def load() -> tuple[str, str]:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True)
        parsed, shown = done.stdout.splitlines()
        return parsed, shown

    first, again = load(), load()
    assert first[0] == "True" and again[0] == "False" and again[1] == first[1]
    assert again[1] == repr(Store().get("rich:2.0").program)


def test_the_runner_looks_for_the_lock_record_where_package_env_writes_it():
    """The environment cache names ``.samepack/env.json`` itself (so a project without one
    loads no reader of it): the same path as the module that writes it."""
    from samepack.envfiles.envjson import ENV_JSON
    from samepack.run.envcache import ENV_RECORD

    assert ENV_RECORD == ENV_JSON
