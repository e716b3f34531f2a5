"""Shared machinery for translators of other program formats (SAME, AME, MLproject).

A translator walks the original document, writes canonical ``samepack.yaml`` data, and records
for each canonical path which original path it came from (``at``). Schema and semantic errors
found in the canonical data are then reported at the original file, line and field; things
samepack cannot honour become warnings (``warn``), never silent drops.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from samepack.errors import InputError
from samepack.program.build import build_program
from samepack.program.model import API_VERSION, Program, SourceFormat
from samepack.program.schema import validate_schema
from samepack.program.yamlsource import PathKey, Source, dotted


def slug(text: str, limit: int = 63) -> str:
    """A name samepack (and Kubernetes) accepts: lowercase letters, digits and '-'."""
    value = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return value[:limit].rstrip("-") or "program"


@dataclass
class Translation:
    source: Source
    prefix: PathKey = ()  # where the config sits inside the file (a notebook's metadata)
    origin: dict[PathKey, PathKey] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def get(self, path: PathKey, default: Any = None) -> Any:
        """The original value at ``path`` (relative to the config), or ``default``."""
        value: Any = self.source.data
        for part in self.prefix + tuple(path):
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and isinstance(part, int) and part < len(value):
                value = value[part]
            else:
                return default
        return value

    def at(self, canonical: PathKey, original: PathKey) -> None:
        self.origin[tuple(canonical)] = tuple(original)

    def where(self, original: PathKey) -> str:
        full = self.prefix + tuple(original)
        return f"{self.source.file}:{self.source.line(full)}: {dotted(full) or '(top)'}"

    def warn(self, original: PathKey, message: str) -> None:
        self.warnings.append(f"{self.where(original)}: {message}")

    def error(self, original: PathKey, message: str, hint: str | None = None) -> InputError:
        return self.source.error(self.prefix + tuple(original), message, hint)

    def locate(self, canonical: PathKey, message: str) -> InputError:
        """An error about canonical ``path``, reported at the original it came from."""
        path = tuple(canonical)
        while path and path not in self.origin:
            path = path[:-1]
        original = self.origin.get(path, ())
        deeper = original + tuple(canonical)[len(path):]  # same shape below, e.g. resources.cpu
        while len(deeper) > len(original) and self.prefix + deeper not in self.source.lines:
            deeper = deeper[:-1]
        return self.error(deeper, message)

    def expect(self, path: PathKey, kinds: type | tuple[type, ...], what: str,
               required: bool = False) -> Any:
        """The value at ``path`` if it has the right type; an error naming the field if not."""
        value = self.get(path)
        if value is None:
            if required:
                raise self.error(path, f"{what} is required")
            return None
        if not isinstance(value, kinds):
            raise self.error(path, f"expected {what}, got {type(value).__name__}")
        return value

    def ignore_unknown(self, path: PathKey, mapping: dict[str, Any], known: set[str]) -> None:
        for key in mapping:
            if key not in known:
                self.warn(tuple(path) + (key,), "not understood by samepack; ignored")

    def finish(self, data: dict[str, Any], source_format: SourceFormat) -> Program:
        """Validate the canonical data, build the Program, attach the warnings."""
        data = {"apiVersion": API_VERSION, "kind": "Program", **data}
        validate_schema(data, self.locate)
        program = build_program(data, self.locate)
        program.source_format = source_format
        program.warnings = list(self.warnings)
        return program
