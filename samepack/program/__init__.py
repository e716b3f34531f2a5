"""Programs: the model (``model``), loading any supported format (``load_program``), the
format registry (``FORMATS``, ``register_format``) and the shipped JSON Schema (``schema.json``).

Contract: ``load_program(path) -> Program`` detects samepack.yaml / same.yaml / a SAME notebook
(``metadata.same_config``) / ame.yaml (both generations); errors are ``InputError`` with
``FILE:LINE: field.path: message``; things samepack cannot honour go to ``Program.warnings``.
The loaders are imported on first use so that ``samepack.program.model`` stays light.
"""

from __future__ import annotations

from typing import Any

_LOADER_NAMES = {"DEFAULT_NAMES", "FORMATS", "ProgramFormat", "find_program_file",
                 "load_program", "register_format"}

__all__ = sorted(_LOADER_NAMES | {"Program"})


def __getattr__(name: str) -> Any:
    if name in _LOADER_NAMES:
        from samepack.program import loader

        return getattr(loader, name)
    if name == "Program":
        from samepack.program.model import Program

        return Program
    raise AttributeError(f"module 'samepack.program' has no attribute {name!r}")
