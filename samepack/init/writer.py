"""Writing ``samepack.yaml``: canonical text, checked by the program loader before it lands,
written atomically, never over an existing file without ``force``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from samepack.errors import ConflictError, InputError
from samepack.program.canonical import canonical_yaml
from samepack.program.model import Program
from samepack.program.samepack_format import load_samepack_yaml
from samepack.program.yamlsource import parse_yaml


def render(program: Program) -> str:
    """The ``samepack.yaml`` text for ``program`` (canonical, deterministic)."""
    return canonical_yaml(program)


def check(text: str, file_name: str = "samepack.yaml") -> Program:
    """Load ``text`` as the program loader would; an InputError names what is wrong."""
    source = parse_yaml(text, file_name)
    return load_samepack_yaml(Path(file_name), source)


def write_atomic(target: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``target`` and rename it into place."""
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_program(target: Path, program: Program, force: bool = False) -> str:
    """Check, then write ``program`` to ``target``; returns the text written."""
    if target.exists() and not force:
        raise ConflictError(f"{target}: already exists; not overwritten",
                            "pass --force to replace it, or edit it by hand")
    text = render(program)
    try:
        check(text, target.name)
    except InputError as error:
        hint = "give another --version or --name" if "metadata." in error.message else \
            "pass --entry to pick another entry point"
        raise InputError(f"the inferred program is not valid: {error.message}", hint) from None
    write_atomic(target, text)
    return text
