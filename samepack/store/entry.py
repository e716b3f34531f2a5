"""One registered program in the local store (``programs/<name>/<version>/``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from samepack.errors import InputError
from samepack.program.model import Program

ENTRY_FORMAT = 1
CreatedFrom = Literal["file", "bundle"]


@dataclass
class Entry:
    """A registered program. ``workdir`` is where its steps run: the project directory it was
    created from, or the ``code/`` directory it was imported with from a bundle."""

    name: str
    version: str
    digest: str
    path: Path
    project_dir: Path | None = None
    created_from: CreatedFrom = "file"
    source: str | None = None
    _program: Program | None = field(default=None, repr=False, compare=False)

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def workdir(self) -> Path:
        return self.project_dir if self.project_dir is not None else self.path / "code"

    @property
    def program_file(self) -> Path:
        return self.path / "program" / "samepack.yaml"

    @property
    def program(self) -> Program:
        """The canonical program, loaded on first use. The file was checked against the schema
        when it was registered; while it still has the registered digest, that check is not
        repeated (it is the slow part of loading), otherwise it is."""
        if self._program is None:
            self._program = self._load_program()
            self._program.source_path = str(self.program_file)
            self._program.project_dir = str(self.workdir)
        return self._program

    def _load_program(self) -> Program:
        """The canonical file built, remembered while it has the registered digest
        (``samepack.program.remembered``: a run of a stored program parses no YAML again)."""
        from samepack.console import warn
        from samepack.program import remembered

        raw = remembered.file_bytes(self.program_file)
        where, context = self.program_file.resolve(), ["store entry", self.digest]
        program = remembered.recall(where, raw, context) if raw is not None else None
        if program is not None:
            return program
        from samepack.program.build import build_program
        from samepack.program.canonical import program_digest
        from samepack.program.yamlsource import read_yaml

        source = read_yaml(self.program_file, raw)
        try:
            program = build_program(source.data, source.error)
            if program_digest(program) == self.digest:
                if raw is not None:
                    remembered.remember(where, raw, context, program)
                return program
        except (InputError, KeyError, TypeError, AttributeError):
            pass
        warn(f"{self.program_file}: changed since {self.ref} was registered")
        from samepack.program.samepack_format import load_samepack_yaml

        return load_samepack_yaml(self.program_file, source)

    def to_json(self) -> dict[str, Any]:
        return {"format": ENTRY_FORMAT, "name": self.name, "version": self.version,
                "digest": self.digest,
                "project_dir": str(self.project_dir) if self.project_dir else None,
                "created_from": self.created_from, "source": self.source}

    @classmethod
    def read(cls, path: Path) -> "Entry":
        """The entry stored in directory ``path`` (``path/entry.json``)."""
        file = path / "entry.json"
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            return cls(name=data["name"], version=str(data["version"]), digest=data["digest"],
                       path=path,
                       project_dir=Path(data["project_dir"]) if data.get("project_dir") else None,
                       created_from=data.get("created_from", "file"), source=data.get("source"))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InputError(f"{file}: not a valid store entry ({error})",
                             "remove the directory or re-register the program with --force") from None


def entry_json_bytes(entry: Entry) -> bytes:
    return (json.dumps(entry.to_json(), indent=2, sort_keys=True) + "\n").encode("utf-8")
