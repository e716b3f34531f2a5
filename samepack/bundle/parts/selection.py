"""What goes into each part of a bundle for a registered program: pure selection of sources
(paths and where their bytes come from); the writer reads them."""

from __future__ import annotations

import hashlib
import json
import os
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from samepack.bundle.parts.code import CodeFiles, collect_code, collect_tree, walk_files
from samepack.bundle.format.index import attach_from_folder
from samepack.bundle.format.manifest import MANIFEST_NAME, Manifest, Member, canonical_json
from samepack.bundle.parts.secrets import (SCAN_LIMIT, redact, rules_digest, secret_by_name,
                                           secret_in_content, secret_in_file)
from samepack.bundle.write.writer import Source, file_mode
from samepack.cache import DigestSet
from samepack.program.model import Program

ENV_PATTERNS = ("requirements.in", "requirements.txt", "requirements.lock", "environment.yml",
                "conda-lock.yml", "conda-lock.samepack.yml", "pylock.toml", "pylock.*.toml", ".samepack/env.json", "Dockerfile")
RUNS = "metadata/runs.jsonl"
REPORT = "metadata/report.html"  # the runs' HTML report (samepack.insights), opened by inspect


def listed_paths(entry, folder: str) -> list[str] | None:
    """For a program imported from a bundle: the paths its original manifest lists under
    ``folder`` (relative to it, whichever part holds them), so files written later (run
    outputs) stay out."""
    original = Path(entry.path) / MANIFEST_NAME
    if entry.project_dir is not None or not original.is_file():
        return None
    prefix = folder + "/"
    return [m.path.removeprefix(prefix) for m in entry_manifest(Path(entry.path)).members()
            if m.path.startswith(prefix)]


def entry_manifest(folder: Path) -> Manifest:
    """The original manifest of a program imported into ``folder``, every member listed
    (format 3 keeps them in the parts' index files beside it)."""
    manifest = Manifest.from_bytes((folder / MANIFEST_NAME).read_bytes())
    attach_from_folder(manifest, folder)
    return manifest


def source_digests(sources: list[Source]) -> list[tuple[str, str]]:
    """(path, sha256) of small sources (the program's files), read once more."""
    out = []
    for source in sources:
        data = source.data if source.data is not None else Path(source.file).read_bytes()
        out.append((source.path, hashlib.sha256(data).hexdigest()))
    return out


def tree_sources(root: Path, prefix: str, only: list[str] | None = None) -> list[Source]:
    """Every regular file under ``root`` (or just ``only``) as ``prefix/relative/path``."""
    if not root.is_dir():
        return []
    paths = walk_files(root, skip=set()) if only is None else only
    return [Source(f"{prefix}/{path}", file_mode(root / path), file=root / path)
            for path in paths if (root / path).is_file() and not (root / path).is_symlink()]


def env_sources(project: Path, program: Program) -> list[Source]:
    """Lock and environment files of a project (those named in the program too)."""
    wanted = set(ENV_PATTERNS) | {p for p in (program.environment.lock,
                                              program.environment.conda) if p}
    wanted |= set(_locked_files(project))
    found = {}
    for pattern in sorted(wanted):
        if any(ch in pattern for ch in "*?["):
            matches = [p.name for p in project.iterdir() if fnmatch(p.name, pattern)]
        else:
            matches = [pattern]
        for relative in matches:
            file = project / relative
            if (file.is_file() and not file.is_symlink() and not Path(relative).is_absolute()
                    and ".." not in Path(relative).parts):
                found[relative] = Source(f"env/{Path(relative).as_posix()}", file_mode(file),
                                         file=file)
    return list(found.values())


def _locked_files(project: Path) -> list[str]:
    """The files the lock record (``.samepack/env.json``) vouches for."""
    record = project / ".samepack" / "env.json"
    try:
        files = json.loads(record.read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError, AttributeError):
        return []
    return [name for name in files if isinstance(name, str)] if isinstance(files, dict) else []


def run_outputs(name: str) -> frozenset[str]:
    """Paths that the runs of program ``name`` recorded as output files of theirs (a run whose
    record is damaged is passed over with a warning: its outputs are not known)."""
    from samepack.console import warn
    from samepack.history import History

    def damaged(error) -> None:
        warn(f"{error.message}: the files that run made are not known, so they may be taken "
             f"for code (samepack runs show {error.run_id[:8]} says how to fix the run)")

    history = History()
    try:
        return frozenset(artifact["path"] for record in history.list_runs(name, damaged=damaged)
                         for artifact in record.artifacts if artifact.get("kind") == "output")
    finally:
        history.close()


def code_files(entry) -> tuple[Path, CodeFiles]:
    """Where the code comes from and which files (the project, or an imported ``code/``).
    The program's own file is not code: it travels in the program part (see
    ``program_own_files``), so a new version of it leaves the code part unchanged."""
    own = set(program_own_files(entry)[1])
    if entry.project_dir is not None:
        project = Path(entry.project_dir)
        files = collect_code(project, run_outputs(entry.name))
        files.paths = [path for path in files.paths if path not in own]
        return project, files
    root = Path(entry.path) / "code"
    listed = listed_paths(entry, "code")
    if listed is not None:
        return root, CodeFiles(paths=[path for path in listed if path not in own])
    return root, collect_tree(root, run_outputs(entry.name))


def program_own_files(entry) -> tuple[Path, list[str]]:
    """The program's own file as the user wrote it (comments and all), relative to the code's
    root: for a project, the registered file when it lies in the project; for an imported
    program, the ``code/`` files its bundle carried in the program part."""
    if entry.project_dir is not None:
        project = Path(entry.project_dir)
        own = program_file_in(project, entry.source)
        return project, [own] if own and (project / own).is_file() else []
    original = Path(entry.path) / MANIFEST_NAME
    part = entry_manifest(Path(entry.path)).part("program") if original.is_file() else None
    return Path(entry.path) / "code", [m.path.removeprefix("code/") for m in
                                       (part.members if part else []) if m.path.startswith("code/")]


def program_file_in(project: Path, source: str | None) -> str | None:
    """The project-relative POSIX path of the program's file, when it lies in ``project``."""
    if not source:
        return None
    try:
        return Path(os.path.abspath(source)).relative_to(os.path.abspath(project)).as_posix()
    except ValueError:
        return None


def code_sources(root: Path, files: CodeFiles) -> list[Source]:
    """Sources for ``code/``; the writer takes each file's mode when it opens it."""
    base = os.path.join(os.fspath(root), "")
    return [Source("code/" + path, None, base + path) for path in files.paths]


class SecretScreen:
    """Checks the content of small files for secrets (``check`` runs in worker processes, so
    it is a plain function) and remembers what it left out.

    Contents that passed are remembered by digest (:mod:`samepack.cache`), so a file unchanged
    since an earlier export is not searched again."""

    check = staticmethod(secret_in_content)
    check_large = staticmethod(secret_in_file)

    def __init__(self) -> None:
        self.dropped: list[tuple[str, str]] = []
        self.known = DigestSet.load(f"screened-{rules_digest()}")

    @property
    def passed_before(self) -> set[bytes]:
        return self.known.digests

    def drop(self, path: str, reason: str) -> None:
        self.dropped.append((path.removeprefix("code/"), reason))

    def remember(self, members: list[Member]) -> None:
        """Record the contents of the members written, which passed (best effort)."""
        self.known.add(bytes.fromhex(m.sha256) for m in members if m.size <= SCAN_LIMIT)


def refuse_secrets(sources: list[Source]) -> list[Source]:
    """``sources`` of the program, env or infra part, unless one holds a secret (by name or
    content, the code part's rules): these files are the program itself, so leaving one out
    would ship a program that does not run; the export is refused instead."""
    from samepack.errors import InputError

    for source in sources:
        data = source.data
        if data is None and source.file is not None:
            data = Path(source.file).read_bytes()
        if data is None:
            continue
        why = (secret_by_name(source.path.split("/", 1)[-1])
               or secret_in_content(source.path, data))
        if why:
            raise InputError(f"{source.path} holds a {why}: export refused, nothing was "
                             "written", hint="keep secrets out of the program, its lock and "
                             "env: values; declare them under secrets: to be given at run time")
    return sources


def redacted_runs(records: list[dict[str, Any]], warnings: list[str]) -> list[dict[str, Any]]:
    """Run records with every value or name that holds a secret redacted, each one said in
    ``warnings``."""
    notes: list[str] = []
    out = [redact(record, f"run {record.get('id')}", notes) for record in records]
    warnings += [f"redacted in {RUNS}: {note}" for note in notes]
    return out


def runs_bytes(records: list[dict[str, Any]]) -> bytes:
    return b"".join(canonical_json(record) + b"\n" for record in records)


def read_runs(raw: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


def env_image(project: Path | None, program: Program) -> str | None:
    """The image reference recorded for the program: the image ``samepack build`` recorded in
    env.json (by digest once pushed), else the program's own."""
    from samepack.image.record import read_image

    record = read_image(project) if project else None
    return record.pinned() if record else program.environment.image
