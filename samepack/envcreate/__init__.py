"""Recreate a locked environment on this machine (uv venv + ``uv pip sync --require-hashes``,
or a conda prefix installed by py-rattler), after checking the machine meets the needs."""

from samepack.envcreate.create import (CreateOptions, create_environment, environment_python,
                                       machine_shortfalls, program_needs, verify_lock_files)
from samepack.envcreate.hardware import (Needs, Shortfall, check_hardware, needs_from_program,
                                         needs_from_record)

__all__ = ["CreateOptions", "Needs", "Shortfall", "check_hardware", "create_environment",
           "environment_python", "machine_shortfalls", "needs_from_program", "needs_from_record",
           "program_needs", "verify_lock_files"]
