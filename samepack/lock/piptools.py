"""The pip-tools locker (``pip-compile --generate-hashes``), for teams that standardise on it.

pip-compile resolves for the interpreter it runs on, so it cannot lock for another Python or
platform; such requests are refused with a pointer to the uv locker.
"""

from __future__ import annotations

import os
import sys

from samepack.errors import InputError, ToolMissingError
from samepack.lock.compile import index_args, scratch_inputs, with_header
from samepack.lock.credentials import PIP_FLAG_VARIABLES, off_command_line
from samepack.lock.model import LockRequest, LockResult
from samepack.lock.pins import pins_from_requirements
from samepack.lock.platforms import normalise_platforms, target_python
from samepack.lock.tool import dist_version, run_tool
from samepack.machine import conda_platform


class PipToolsLocker:
    name = "pip-tools"

    def lock(self, request: LockRequest) -> LockResult:
        self._check_supported(request)
        python = target_python(request.python)
        platforms = normalise_platforms(request.platforms)
        flags, flag_variables = off_command_line(index_args(request), PIP_FLAG_VARIABLES)
        with scratch_inputs(request) as (scratch, extra):
            run_tool([sys.executable, "-m", "piptools", "compile", "requirements.in",
                      "--generate-hashes", "--no-header", "--no-emit-index-url",
                      "--no-emit-find-links", "--quiet", "--strip-extras",
                      "--output-file", "requirements.txt", *flags, *extra],
                     scratch, "pip-compile",
                     env={**os.environ, **flag_variables} if flag_variables else None)
            text = with_header((scratch / "requirements.txt").read_text(encoding="utf-8"))
        return LockResult(locker=self.name, files={"requirements.txt": text},
                          pins=pins_from_requirements(text),
                          tool_versions={"pip-tools": dist_version("pip-tools"),
                                         "pip": dist_version("pip")},
                          python=python, platforms=platforms)

    def _check_supported(self, request: LockRequest) -> None:
        if dist_version("pip-tools") == "unknown":
            raise ToolMissingError("pip-tools is not installed (--locker pip-tools)",
                                   hint="pip install 'samepack[piptools]', or use --locker uv")
        running = f"{sys.version_info.major}.{sys.version_info.minor}"
        if request.python and not (request.python + ".").startswith(running + "."):
            raise InputError(f"--python {request.python}: pip-compile only locks for the Python "
                             f"it runs on ({running})", hint="use --locker uv to lock for another Python")
        if request.platforms and set(request.platforms) != {conda_platform()}:
            raise InputError("--platform: pip-compile only locks for this machine's platform",
                             hint="use --locker uv to lock for other platforms")
        if request.pylock:
            raise InputError("--pylock needs the uv locker", hint="use --locker uv")
        if request.conda is not None:
            raise InputError("pip-tools cannot lock a conda environment.yml",
                             hint="use --locker conda-lock")
        if request.index.pinned:
            names = ", ".join(dict.fromkeys(pin.package for pin in request.index.pinned))
            raise InputError(f"pyproject.toml: [tool.uv.sources] pins {names} to an explicit "
                             "index, which pip-compile cannot keep to those packages",
                             hint="use --locker uv, which resolves them from that index only")
