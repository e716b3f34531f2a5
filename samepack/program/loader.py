"""Which format a program file is in, and loading it (the format registry).

``FORMATS`` is an ordered list of (detector, loader) pairs; the first detector that answers
yes wins. A detector gets the path and, for anything but a notebook, the parsed YAML
(``Source``, lines kept); a loader gets the same and returns a ``Program``. Another format is
one ``register_format`` call away (MLproject does exactly that).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import importlib

from samepack.console import warn
from samepack.errors import InputError
from samepack.program.model import Program

if TYPE_CHECKING:  # PyYAML is loaded only when a file is parsed (a remembered one is not)
    from samepack.program.yamlsource import Source

Detector = Callable[[Path, "Source | None"], bool]
Loader = Callable[[Path, "Source | None"], Program]

# File names looked for, in order, when a directory is given.
DEFAULT_NAMES = ["samepack.yaml", "samepack.yml", "same.yaml", "same.yml", "ame.yaml", "ame.yml",
                 "MLproject"]


@dataclass(frozen=True)
class ProgramFormat:
    """A program format: its name, how a file in it is recognised and how it is loaded."""

    name: str
    detect: Detector
    load: Loader


def _on_first_use(target: str) -> Callable:
    """``"module:function"`` as a function imported when first called: a run of a
    samepack.yaml never loads the translators of the other formats."""
    module_name, name = target.split(":")

    def call(*args):
        return getattr(importlib.import_module(module_name), name)(*args)

    call.__name__ = name
    return call


_P = "samepack.program."
FORMATS: list[ProgramFormat] = [
    ProgramFormat("samepack", _on_first_use(_P + "samepack_format:is_samepack_yaml"),
                  _on_first_use(_P + "samepack_format:load_samepack_yaml")),
    ProgramFormat("mlproject", _on_first_use(_P + "mlproject:is_mlproject"),
                  _on_first_use(_P + "mlproject:load_mlproject")),
    ProgramFormat("same-notebook", _on_first_use(_P + "same_format:is_same_notebook"),
                  _on_first_use(_P + "same_format:load_same_notebook")),
    ProgramFormat("same", _on_first_use(_P + "same_format:is_same_config"),
                  _on_first_use(_P + "same_format:load_same_config")),
    ProgramFormat("ame", _on_first_use(_P + "ame_format:is_ame_config"),
                  _on_first_use(_P + "ame_format:load_ame_config")),
]


def register_format(fmt: ProgramFormat, file_names: list[str] | None = None,
                    first: bool = False) -> None:
    """Add a format (``first``: ahead of the built-in ones) and the file names it claims."""
    if any(existing.name == fmt.name for existing in FORMATS):
        return
    FORMATS.insert(0, fmt) if first else FORMATS.append(fmt)
    DEFAULT_NAMES.extend(name for name in file_names or [] if name not in DEFAULT_NAMES)


def find_program_file(path: Path) -> Path:
    """``path`` itself, or the program file inside a directory."""
    if path.is_dir():
        for name in DEFAULT_NAMES:
            if (path / name).is_file():
                return path / name
        raise InputError(f"{path}: no program file found", f"expected one of {', '.join(DEFAULT_NAMES)}")
    if not path.exists():
        raise InputError(f"{path}: no such file", "give the path of samepack.yaml, same.yaml or ame.yaml")
    return path


def load_program(path: Path | str, show_warnings: bool = True) -> Program:
    """Load a program in any known format; ``source_path`` is set, warnings printed. A
    ``samepack.yaml`` loaded before is read back from its record (``samepack.program.remembered``)."""
    from samepack.program import remembered

    path = find_program_file(Path(path))
    resolved = path.resolve()
    raw = remembered.file_bytes(path)
    names = ["load_program", *(fmt.name for fmt in FORMATS)]  # the formats tried, in order
    program = remembered.recall(resolved, raw, names) if raw is not None else None
    if program is None:
        program, fmt = _parsed_program(path, raw)
        program.source_path = str(resolved)
        program.project_dir = program.project_dir or str(resolved.parent)
        if fmt.name == "samepack" and raw is not None:
            remembered.remember(resolved, raw, names, program)
    if show_warnings:
        for message in program.warnings:
            warn(message)
    return program


def _parsed_program(path: Path, raw: bytes | None) -> tuple[Program, ProgramFormat]:
    """Parsed from ``raw`` when given: what is remembered is what those bytes load to."""
    from samepack.program.yamlsource import read_yaml

    source = None if path.suffix == ".ipynb" else read_yaml(path, raw)
    for fmt in FORMATS:
        if fmt.detect(path, source):
            return fmt.load(path, source), fmt
    raise InputError(f"{path.name}:1: not a program file samepack knows",
                     "samepack reads samepack.yaml, same.yaml (or a SAME notebook) and ame.yaml")
