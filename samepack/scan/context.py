"""What every detector gets: the project root, the files worth reading, and the project's
configuration files, each parsed once (an invalid ``pyproject.toml`` stops the scan)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from samepack.errors import InputError
from samepack.scan.declared.conda_env import ENVIRONMENT_FILES, CondaEnvironment, read_environment
from samepack.scan.model import Problem
from samepack.scan.sources.walk import ProjectFiles


@dataclass
class TomlFile:
    rel: str
    data: dict[str, Any]
    lines: list[str]


@dataclass
class ScanContext:
    root: Path
    files: ProjectFiles
    problems: list[Problem] = field(default_factory=list)

    def read_text(self, rel: str) -> str | None:
        """Text of ``root/rel``, or None when it is absent; unreadable files become problems."""
        path = self.root / rel
        if not path.is_file():
            return None
        try:
            return path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            self.problems.append(Problem(rel, f"unreadable: {error}"))
            return None

    def _toml(self, rel: str, fatal: bool) -> TomlFile | None:
        text = self.read_text(rel)
        if text is None:
            return None
        if sys.version_info >= (3, 11):  # imported here: most projects have no TOML to read
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        try:
            return TomlFile(rel, tomllib.loads(text), text.splitlines())
        except tomllib.TOMLDecodeError as error:
            if fatal:
                raise InputError(f"{self.root / rel}: invalid TOML: {error}",
                                 hint=f"fix the syntax of {rel} at the line shown") from None
            self.problems.append(Problem(rel, f"invalid TOML: {error}"))
            return None

    @cached_property
    def pyproject(self) -> TomlFile | None:
        return self._toml("pyproject.toml", fatal=True)

    @cached_property
    def pipfile(self) -> TomlFile | None:
        return self._toml("Pipfile", fatal=False)

    @cached_property
    def conda(self) -> CondaEnvironment | None:
        """The project's ``environment.yml``, read once."""
        for rel in ENVIRONMENT_FILES:
            text = self.read_text(rel)
            if text is not None:
                return read_environment(rel, text, self.problems)
        return None

    def user_mapping(self) -> dict[str, str]:
        """``[tool.samepack.mapping]`` of pyproject.toml: import name -> distribution."""
        if not self.pyproject:
            return {}
        mapping = self.pyproject.data.get("tool", {}).get("samepack", {}).get("mapping", {})
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise InputError(f"{self.root / 'pyproject.toml'}: [tool.samepack.mapping] must map "
                             "import names to distribution names (strings)",
                             hint='write e.g. cv2 = "opencv-python-headless"')
        return {str(k): v for k, v in mapping.items()}


def line_of(lines: list[str], *needles: str) -> int | None:
    """1-based number of the first line containing any of ``needles`` (TOML/INI keep no positions)."""
    for number, text in enumerate(lines, start=1):
        if any(needle in text for needle in needles):
            return number
    return None
