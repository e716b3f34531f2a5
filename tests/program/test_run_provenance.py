"""What a run records of where it ran (the git commit of the checkout, clean or not), and which
Python ``python`` and ``python3`` start in its steps, with real git and real interpreters."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from tests.program.helpers import last_run, py, step, write_program

# The step asks both names, from PATH as a shell would, which environment they start.
PREFIXES = py("import subprocess\n"
              "for name in ('python', 'python3'):\n"
              "    prefix = subprocess.run([name, '-c', 'import sys; print(sys.prefix)'],\n"
              "                            capture_output=True, text=True).stdout.strip()\n"
              "    print(name + '=' + prefix)\n")



def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def git_tool():
    if shutil.which("git") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("git is not installed")
        pytest.skip("git is not installed")


def test_a_run_in_a_git_checkout_records_its_commit_and_whether_it_was_edited(
        samepack_proc, tmp_path, git_tool):
    project = tmp_path / "project"
    path = write_program(project, "steps:\n" + step("hello", py("print(1)")))
    _git(project, "init", "-q")
    _git(project, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", ".")
    _git(project, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "x")
    head = _git(project, "rev-parse", "HEAD")
    assert samepack_proc("run", "-f", path).returncode == 0
    first = last_run()
    assert (first.git_commit, first.git_dirty) == (head, False)
    path.write_text(path.read_text() + "# edited\n")
    assert samepack_proc("run", "-f", path).returncode == 0
    second = last_run()
    assert (second.git_commit, second.git_dirty) == (head, True)


def test_a_run_outside_any_checkout_starts_no_git(samepack_proc, tmp_path):
    """A ``git`` first on PATH that notes each call: outside a checkout it is never asked."""
    tools = tmp_path / "tools"
    tools.mkdir()
    calls = tmp_path / "git-calls"
    (tools / "git").write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\nexit 128\n")
    (tools / "git").chmod(0o755)
    project = tmp_path / "project"
    path = write_program(project, "steps:\n" + step("hello", py("print(1)")))
    assert not any((folder / ".git").exists() for folder in (project, *project.parents))
    done = samepack_proc("run", "-f", path,
                         env={"PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"})
    assert done.returncode == 0, done.stderr
    assert not calls.exists()
    assert last_run().git_commit is None
    (project / ".git").mkdir()  # a folder git would look at: now it is asked
    done = samepack_proc("run", "-f", path,
                         env={"PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"})
    assert done.returncode == 0, done.stderr
    assert "rev-parse HEAD" in calls.read_text()


def _run_with(interpreter: Path, program: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """``samepack run`` started by ``interpreter``, which finds samepack and its packages on
    PYTHONPATH (the interpreter's own environment has none)."""
    repo = Path(__file__).resolve().parents[2]
    paths = [str(repo), *site.getsitepackages()]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run([str(interpreter), "-m", "samepack", "run", "-f", str(program),
                           "--env-manager", "local"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300)


def _printed_prefixes(stdout: str) -> dict[str, str]:
    """name -> sys.prefix, from the step's lines (shown as ``[step] name=prefix``)."""
    found = {}
    for line in stdout.splitlines():
        for name in ("python", "python3"):
            if f" {name}=" in f" {line.split('] ', 1)[-1]}":
                found[name] = line.split(f"{name}=", 1)[1]
    return found


def test_python_and_python3_in_a_step_are_the_runs_interpreter(tmp_path):
    """Both names start the interpreter samepack runs the steps with: a virtual environment's
    own, even where its folder has no ``python3`` (then the run brings its own)."""
    program = write_program(tmp_path / "project", "steps:\n" + step("which", PREFIXES))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    done = _run_with(venv / "bin" / "python", program, tmp_path)
    assert done.returncode == 0, done.stderr
    assert _printed_prefixes(done.stdout) == {"python": str(venv), "python3": str(venv)}
    (venv / "bin" / "python3").unlink()
    done = _run_with(venv / "bin" / "python", program, tmp_path)
    assert done.returncode == 0, done.stderr
    assert _printed_prefixes(done.stdout) == {"python": str(venv), "python3": str(venv)}


def _interpreter_that_says(path: Path, version: str, asked: Path) -> None:
    """An executable standing in for an interpreter: asked anything, it notes the question in
    ``asked`` and answers ``version``."""
    path.write_text(f"#!/bin/sh\necho asked >> {asked}\necho {version}\n")
    path.chmod(0o755)


def test_an_environments_python_version_is_asked_once_and_again_when_its_interpreter_changes(
        tmp_path):
    """A run records the version of its environment's interpreter without starting it every
    time: the answer is kept beside the environment for that interpreter file, and a file
    replaced in place (an upgraded Python) is asked again."""
    from samepack.run.envcache import VERSION_RECORD, recorded_python_version

    prefix, asked = tmp_path / "env", tmp_path / "asked"
    (prefix / "bin").mkdir(parents=True)
    python = prefix / "bin" / "python"
    _interpreter_that_says(python, "3.10.4", asked)
    assert recorded_python_version(prefix, python) == "3.10.4"
    assert recorded_python_version(prefix, python) == "3.10.4"
    assert asked.read_text().count("asked") == 1
    assert (prefix / VERSION_RECORD).is_file()

    _interpreter_that_says(python, "3.10.11", asked)  # upgraded in place
    assert recorded_python_version(prefix, python) == "3.10.11"
    assert asked.read_text().count("asked") == 2

    (prefix / VERSION_RECORD).write_text("{not json")  # a damaged record is asked again
    assert recorded_python_version(prefix, python) == "3.10.11"
    assert asked.read_text().count("asked") == 3
