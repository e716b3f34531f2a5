"""conda channels that do not answer: the wait is bounded (a short first contact, then a limit
on every request), the failure is one line naming the channel and the way out, and a project
declared only by ``environment.yml`` still locks from PyPI. Real servers on 127.0.0.1 and the
real binder-conda-pip fixture (fixtures/binder-conda-pip/README.md)."""

from __future__ import annotations

import json
import subprocess
import time
import pytest

from silent_servers import silent_server, stalling_channel


def error_lines(done: subprocess.CompletedProcess) -> tuple[str, str]:
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("error: "), done.stderr
    return lines[0], next((line for line in lines if line.startswith("hint: ")), "")


def test_a_channel_that_never_answers_fails_within_the_connect_wait(samepack_proc, tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    (root / "environment.yml").write_text("dependencies:\n  - numpy\n")
    with silent_server() as server:
        channel = f"{server}/conda-forge"
        started = time.monotonic()
        done = samepack_proc("package-env", root, "--locker", "conda-lock", "--channel", channel,
                             env={"SAMEPACK_CONDA_CONNECT_TIMEOUT": "1"}, timeout=120)
        took = time.monotonic() - started
    assert done.returncode == 8, done.stderr  # RemoteError
    first, hint = error_lines(done)
    assert first == f"error: conda channel {channel} could not be reached: no answer within 1 s"
    assert "--channel URL" in hint and "--locker uv" in hint
    assert "SAMEPACK_CONDA_CONNECT_TIMEOUT" in hint
    assert took < 15, took  # the wait, plus start-up; rattler alone waited forever
    assert sorted(p.name for p in root.iterdir()) == ["environment.yml"]


def test_a_channel_that_stops_answering_is_bounded_by_the_request_wait(samepack_proc, tmp_path):
    """First contact answers, then every repodata request hangs: rattler's own requests are
    bounded by SAMEPACK_CONDA_TIMEOUT (one retry within it)."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "environment.yml").write_text("dependencies:\n  - numpy\n")
    with stalling_channel() as server:
        channel = f"{server}/conda-forge"
        started = time.monotonic()
        done = samepack_proc("package-env", root, "--locker", "conda-lock", "--channel", channel,
                             env={"SAMEPACK_CONDA_TIMEOUT": "2"}, timeout=120)
        took = time.monotonic() - started
    assert done.returncode == 8, done.stderr
    first, hint = error_lines(done)
    assert first.startswith(f"error: conda channel {channel} could not be reached for ")
    assert "timed out" in first and "--channel URL" in hint
    assert took < 30, took


@pytest.mark.parametrize("variable", ["SAMEPACK_CONDA_CONNECT_TIMEOUT", "SAMEPACK_CONDA_TIMEOUT"])
def test_a_wait_that_is_not_seconds_is_a_one_line_input_error(samepack_proc, tmp_path, variable):
    root = tmp_path / "project"
    root.mkdir()
    (root / "environment.yml").write_text("dependencies:\n  - numpy\n")
    done = samepack_proc("package-env", root, "--locker", "conda-lock",
                         env={variable: "soon"})
    assert done.returncode == 3, done.stderr
    first, hint = error_lines(done)
    assert first == f"error: {variable}='soon' is not a number of seconds"
    assert "at most 3600" in hint


def test_an_environment_yml_only_project_locks_from_pypi_when_no_channel_answers(
        samepack_proc, fixture_project, offline, tmp_path):
    """binder-examples/python-conda_pip, declared only by environment.yml (conda packages and a
    pip: section): with its channel silent, the lock is the PyPI equivalents, the warning
    names the channel and what was translated, and the environment made from it imports the
    notebook's packages."""
    root = fixture_project("binder-conda-pip")
    environment = (root / "environment.yml").read_bytes()
    with silent_server() as server:
        channel = f"{server}/conda-forge"
        started = time.monotonic()
        done = samepack_proc("package-env", root, "--channel", channel, *offline,
                             env={"SAMEPACK_CONDA_CONNECT_TIMEOUT": "1"}, timeout=300)
        took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert took < 60, took
    assert (f"warning: no conda channel could be reached (conda channel {channel} could not be "
            "reached: no answer within 1 s): locked the PyPI equivalents of environment.yml's "
            "conda packages; translated numpy\n") in done.stderr
    lock = (root / "requirements.txt").read_text()
    for pin in ("numpy==2.1.0", "pandas==2.2.2", "matplotlib==3.9.0", "nbgitpuller==1.2.1",
                "sphinx-gallery==0.17.1"):
        assert pin in lock, pin
    assert "--hash=sha256:" in lock and not (root / "conda-lock.yml").exists()
    assert (root / "environment.yml").read_bytes() == environment  # the user's file, untouched
    record = json.loads((root / ".samepack" / "env.json").read_text())
    assert (record["locker"], record["locker_source"]) == ("uv", "auto")
    created = samepack_proc("env", "create", root, "--prefix", tmp_path / "env", *offline)
    assert created.returncode == 0, created.stderr
    imports = subprocess.run([created.stdout.strip(), "-c",
                              "import numpy, pandas, matplotlib, nbgitpuller, sphinx_gallery"],
                             capture_output=True, text=True)
    assert imports.returncode == 0, imports.stderr


@pytest.mark.network
def test_the_environment_yml_only_project_locks_against_the_real_index(
        samepack_proc, fixture_project):
    """The same project against PyPI itself (no conda channel: a silent one on 127.0.0.1):
    its real packages resolve, sphinx-gallery bringing Sphinx."""
    root = fixture_project("binder-conda-pip")
    with silent_server() as server:
        done = samepack_proc("package-env", root, "--channel", f"{server}/conda-forge",
                             env={"SAMEPACK_CONDA_CONNECT_TIMEOUT": "1"}, timeout=300)
    assert done.returncode == 0, done.stderr
    names = {line.split("==")[0] for line in (root / "requirements.txt").read_text().splitlines()
             if "==" in line and not line.startswith(" ")}
    assert {"numpy", "pandas", "matplotlib", "nbgitpuller", "sphinx-gallery", "sphinx"} <= names

