"""Progress as a person sees it: package-env and env create run on a real pseudo-terminal
(tests/lock/terminal.py), the screen read through a VT100 emulator. Each step is named with
its time, uv's own progress and messages reach the terminal whole, and without a terminal (or
with --json) nothing of it is written."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from terminal import run_in_terminal

from samepack.machine import conda_platform

TIMED = re.compile(r": \d+\.\d s$")  # a finished step: "resolving ...: 1.3 s"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def small_project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def steps(screen: list[str]) -> list[str]:
    return [TIMED.sub("", line) for line in screen if TIMED.search(line)]


def where(screen: list[str], start: str) -> int:
    return next(i for i, line in enumerate(screen) if line.startswith(start))


def test_a_cold_lock_on_a_terminal_names_each_step_with_its_time(tmp_path, offline):
    root = small_project(tmp_path, {"train.py": "import alpha\n"})
    run = run_in_terminal("package-env", root, *offline)
    assert run.returncode == 0, run.text
    assert steps(run.screen) == [
        f"scanning {root} for what it imports and declares",
        f"resolving 1 requirement with uv pip compile for Python {PYTHON} on {conda_platform()}",
        "writing the environment files"]
    resolved = where(run.screen, "Resolved 2 packages in")  # uv's own words, on the terminal
    assert where(run.screen, "scanning") < resolved < where(run.screen, "resolving")
    assert run.screen[-4:][0].startswith(" file ")  # the result table follows the steps
    assert any(line.startswith("locked 2 packages with uv (auto)") for line in run.screen)
    assert re.search(rb"\d:\d\d:\d\d", run.raw)  # the live line's elapsed time was drawn...
    assert not re.search(r"^[\u2800-\u28ff]", run.text, re.M)  # ...and is gone at the end


def test_without_a_terminal_no_progress_is_written(samepack_proc, tmp_path, offline):
    root = small_project(tmp_path, {"train.py": "import alpha\n"})
    done = samepack_proc("package-env", root, *offline)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"warning: --find-links {offline[1]} is outside the project: requirements.txt does not "
        "name it, so installing it elsewhere needs that folder given again (--find-links DIR); "
        "--no-index is left out of the lock with it",
        f"locked 2 packages with uv (auto) for Python {PYTHON} on {conda_platform()}",
        "download size: unknown (this lock records no file sizes; --pylock with the uv locker "
        "records the index's sizes)"]


def test_json_on_a_terminal_shows_no_progress(tmp_path, offline):
    root = small_project(tmp_path, {"train.py": "import alpha\n"})
    run = run_in_terminal("package-env", root, *offline, "--json")
    assert run.returncode == 0, run.text
    assert b"scanning" not in run.raw and b"Resolved" not in run.raw
    # on a terminal rich wraps the long note (the wheel folder the lock cannot name) for a
    # person: the packages are read from the text, not parsed
    packages = run.text[run.text.index('"packages"'):].split("}", 1)[0]
    assert " ".join(packages.split()) == '"packages": { "pip:alpha": "2.0", "pip:beta": "2.1"'


def test_env_create_on_a_terminal_shows_its_steps_and_uvs_messages(samepack_proc, tmp_path,
                                                                   offline):
    root = small_project(tmp_path, {"train.py": "import alpha\n"})
    assert samepack_proc("package-env", root, *offline).returncode == 0
    prefix = tmp_path / "env"
    run = run_in_terminal("env", "create", root, "--prefix", prefix, *offline)
    assert run.returncode == 0, run.text
    assert steps(run.screen) == [
        "checking the lock files and this machine against the lock",
        f"making the virtual environment at {prefix} with uv venv",
        "installing the 2 packages requirements.txt locks with uv pip sync"]
    installed = where(run.screen, "Installed 2 packages in")
    assert where(run.screen, "making") < installed < where(run.screen, "installing")
    assert {" + alpha==2.0", " + beta==2.1"} <= set(run.screen)
    assert run.screen[-2:] == [f"environment ready: {prefix}", f"{prefix}/bin/python"]


def test_a_failed_lock_on_a_terminal_keeps_the_resolvers_whole_message(tmp_path, offline):
    """uv explains the failure on the terminal as it would in a shell, and samepack's error
    line carries the same explanation whole, without uv's spinner or colours."""
    root = small_project(tmp_path, {"train.py": "import alpha\n",
                                    "requirements.txt": "alpha>=9\n"})
    run = run_in_terminal("package-env", root, *offline, columns=400)  # the line unwrapped
    assert run.returncode == 11, run.text
    assert any("No solution found when resolving dependencies" in line and
               not line.startswith("error: uv pip compile") for line in run.screen)
    error = run.screen[where(run.screen, "error: uv pip compile failed: ")]
    assert "alpha>=9" in error and "your requirements are unsatisfiable" in error
    assert "…" not in error and "Resolving dependencies" not in error
    assert not re.search(r"[\u2800-\u28ff\x1b]", error)
    assert where(run.screen, "hint: ") == where(run.screen, "error: uv pip compile failed") + 1
    assert re.fullmatch(r"resolving 1 requirement with uv pip compile .*: failed after \d+\.\d s",
                        run.screen[where(run.screen, "resolving")])


def test_a_conda_lock_and_environment_on_a_terminal_count_the_packages(tmp_path, conda_channel):
    """A conda channel over HTTP on a slow line: the lock names the channel and the solve,
    env create counts the packages it downloads and checks, then installs them."""
    from silent_servers import slow_channel

    root = small_project(tmp_path, {"environment.yml": "name: t\ndependencies:\n  - tinyapp\n"})
    prefix = tmp_path / "env"
    with slow_channel(conda_channel, delay=0.5) as channel:
        locked = run_in_terminal("package-env", root, "--channel", channel)
        assert locked.returncode == 0, locked.text
        assert steps(locked.screen) == [
            f"scanning {root} for what it imports and declares",
            f"asking conda channel {channel}",
            f"solving 1 conda spec with rattler for {conda_platform()}",
            "writing the environment files"]
        created = run_in_terminal("env", "create", root, "--prefix", prefix)
    assert created.returncode == 0, created.text
    assert steps(created.screen) == [
        "checking the lock files and this machine against the lock",
        "downloading and checking the conda packages conda-lock.yml locks",
        f"installing 2 conda packages into {prefix} with rattler"]
    assert b"conda-lock.yml locks (1 of 2)" in created.raw  # drawn while the second one came
    assert (prefix / "bin" / "tinyapp").is_file()


def test_env_create_json_on_a_terminal_lets_nothing_draw(samepack_proc, tmp_path, offline):
    """--json asks for no progress: neither samepack's steps nor uv's own reach the terminal."""
    root = small_project(tmp_path, {"train.py": "import alpha\n"})
    assert samepack_proc("package-env", root, *offline).returncode == 0
    prefix = tmp_path / "env"
    run = run_in_terminal("env", "create", root, "--prefix", prefix, *offline, "--json")
    assert run.returncode == 0, run.text
    assert b"Installed" not in run.raw and b"checking the lock" not in run.raw
    assert json.loads(run.text[run.text.index("{"):])["prefix"] == str(prefix)


def test_what_a_terminal_was_sent_is_read_back_as_its_lines():
    """uv's bytes on a terminal as recorded (colours, a spinner redrawn over one line, CRLF):
    the text kept for an error is what the screen ends with."""
    from samepack.lock.terminal_run import plain_text

    sent = (b"\x1b[37m\xe2\xa0\x8b\x1b[0m \x1b[2mResolving dependencies...   \x1b[0m\r\x1b[2K"
            b"\x1b[37m\xe2\xa0\x99\x1b[0m \x1b[2malpha==2.0   \x1b[0m\r\x1b[2K"
            b"\x1b[1m\x1b[31merror\x1b[39m\x1b[0m\x1b[1m:\x1b[0m No solution found\r\n"
            b"  \x1b[1m\x1b[31mcause\x1b[39m\x1b[0m\x1b[1m:\x1b[0m alpha>=9 is unavailable\r\n"
            b"\x1b[37m\xe2\xa0\xb8\x1b[0m still drawing")
    assert plain_text(sent) == "error: No solution found\n  cause: alpha>=9 is unavailable\n"
