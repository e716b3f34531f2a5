"""The native format, ``samepack.yaml`` (see docs/program-format.md)."""

from __future__ import annotations

from pathlib import Path

from samepack.program.build import build_program
from samepack.program.model import Program
from samepack.program.schema import validate_schema
from samepack.program.yamlsource import Source, read_yaml


def is_samepack_yaml(path: Path, source: Source | None) -> bool:
    """A YAML document with ``kind: Program`` (or a file named samepack.yaml)."""
    if source is not None and isinstance(source.data, dict) and source.data.get("kind") == "Program":
        return True
    return path.name in {"samepack.yaml", "samepack.yml"}


def load_samepack_yaml(path: Path, source: Source | None = None) -> Program:
    source = source or read_yaml(path)
    validate_schema(source.data, source.error)
    program = build_program(source.data, source.error)
    program.source_format = "samepack"
    return program
