"""The default locker: ``uv pip compile --generate-hashes``.

uv resolves for ``--python-version``/``--python-platform`` whatever interpreter runs it; it is
handed this one explicitly so it never searches (or downloads) an interpreter of the target."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from samepack import progress
from samepack.errors import InputError
from samepack.lock.compile import index_args, scratch_inputs, with_header
from samepack.lock.credentials import off_command_line
from samepack.lock.model import LockRequest, LockResult
from samepack.lock.pins import pins_from_requirements
from samepack.lock.platforms import normalise_platforms, target_python, uv_platform_args
from samepack.lock.tool import dist_version, run_tool, shows_progress, uv_binary
from samepack.lock.uv_sources import SOURCES_INPUT, write_sources_input


class UvLocker:
    name = "uv"

    def lock(self, request: LockRequest) -> LockResult:
        if request.conda is not None:
            raise InputError("the uv locker cannot lock a conda environment.yml",
                             hint="use --locker conda-lock")
        python = target_python(request.python)
        platforms = normalise_platforms(request.platforms)
        files: dict[str, str] = {}
        shown = shows_progress()  # uv's own progress on the terminal, else nothing from it
        with scratch_inputs(request) as (scratch, extra):
            environment = write_sources_input(request, scratch)
            source = SOURCES_INPUT if environment is not None else "requirements.in"
            flags, flag_variables = off_command_line(index_args(request))
            if flag_variables:
                environment = {**(environment or os.environ), **flag_variables}
            base = [uv_binary(), "pip", "compile", source, "--generate-hashes",
                    "--no-header", "--no-config", *([] if shown else ["--quiet"]),
                    "--python", sys.executable,
                    "--no-python-downloads", "--python-version", python,
                    *uv_platform_args(platforms), *flags, *extra,
                    *(arg for name in request.leave_out for arg in ("--no-emit-package", name))]
            progress.step(f"resolving {_requirements(len(request.requirements))} with uv pip "
                          f"compile for Python {python} on {', '.join(platforms)}")
            run_tool([*base, "--output-file", "requirements.txt"], scratch, "uv pip compile",
                     env=environment, on_terminal=shown)
            files["requirements.txt"] = with_header(
                (scratch / "requirements.txt").read_text(encoding="utf-8"))
            if request.pylock:
                kept = _same_versions(scratch, files["requirements.txt"], request)
                progress.step("writing pylock.toml with uv pip compile --format pylock.toml")
                run_tool([*base, *kept, "--format", "pylock.toml", "--output-file", "pylock.toml"],
                         scratch, "uv pip compile --format pylock.toml", env=environment,
                         on_terminal=shown)
                files["pylock.toml"] = with_header(
                    (scratch / "pylock.toml").read_text(encoding="utf-8"))
        return LockResult(locker=self.name, files=files,
                          pins=pins_from_requirements(files["requirements.txt"]),
                          tool_versions={"uv": dist_version("uv")}, python=python,
                          platforms=platforms)


def _same_versions(scratch: Path, requirements_txt: str, request: LockRequest) -> list[str]:
    """With preferences, pylock.toml (which has none of its own) is held to the versions
    requirements.txt was just resolved to."""
    if not request.preferences:
        return []
    (scratch / "locked.txt").write_text("".join(
        f"{p.name}=={p.version}\n" for p in pins_from_requirements(requirements_txt)),
        encoding="utf-8")
    return ["--constraint", "locked.txt"]


def _requirements(count: int) -> str:
    return f"{count} requirement{'s' if count != 1 else ''}"
