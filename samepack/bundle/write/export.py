"""``export_bundle``: a registered program to one deterministic bundle file.

Each part is written to a temp segment beside the target while every file is hashed (one read
per file); then header ‖ segments ‖ trailer go into a temp target renamed into place.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from samepack import __version__
from samepack.bundle.system.atomic import check_overwrite, clean_stale_temps, temp_path
from samepack.bundle.parts.data import data_sources, locate
from samepack.bundle.format.frames import COMPRESSIONS
from samepack.bundle.system.gcpause import gc_paused
from samepack.bundle.parts.infra import infra_sources
from samepack.bundle.format.layout import assemble
from samepack.bundle.format.manifest import MANIFEST_NAME, PART_ORDER, Manifest, Part
from samepack.bundle.parts.selection import (REPORT, RUNS, SecretScreen, code_files,
                                             code_sources, env_image, env_sources, listed_paths,
                                             redacted_runs, refuse_secrets, runs_bytes,
                                             program_own_files, source_digests, tree_sources)
from samepack.bundle.write.writer import Source, write_part
from samepack.errors import InputError

DEFAULT_RUNS = "last:5"


@dataclass
class ExportOptions:
    runs: str = DEFAULT_RUNS
    compression: str = "gzip"
    level: int | None = None
    include_code: bool = True
    include_data: bool = False
    include_image: bool = False  # the program's image as an OCI layout in env/image/
    k8s_version: str | None = None
    force: bool = False
    on_bytes: Callable[[int], None] | None = None  # told of the bytes packed (a progress bar)


@dataclass
class ExportResult:
    path: Path
    size: int
    manifest: Manifest
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why left out)
    warnings: list[str] = field(default_factory=list)


def created_time(entry, git_time: int | None) -> int:
    """SOURCE_DATE_EPOCH, else the original bundle's time of an imported program, else the
    project's commit time, else 0."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        if not epoch.isdigit():
            raise InputError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds",
                             hint="unset it or give seconds since 1970")
        return int(epoch)
    original = Path(entry.path) / MANIFEST_NAME
    if entry.project_dir is None and original.is_file():
        return Manifest.from_bytes(original.read_bytes()).created
    return git_time or 0


def _history(entry, selector: str) -> list[dict]:
    if selector == "none":
        return []
    from samepack.history import History

    history = History()
    try:
        return history.export_runs(entry.name, entry.version, selector)
    finally:
        history.close()


def _resolve(ref_or_entry, store):
    if not isinstance(ref_or_entry, str):
        return ref_or_entry
    from samepack.store import Store

    return (store or Store()).get(ref_or_entry)


class _Parts:
    """Writes the parts one by one into temp segments beside the target."""

    def __init__(self, out: Path, options: ExportOptions, pool: ThreadPoolExecutor) -> None:
        self.out, self.options, self.pool = out, options, pool
        self.written: list[tuple[Part, Path]] = []

    def write(self, name: str, sources: list[Source], screen=None) -> Part | None:
        if not sources:
            return None
        target = temp_path(self.out, f".{name}")
        self.written.append((None, target))  # so cleanup sees it even if writing fails
        part = write_part(name, sources, target, self.options.compression, self.options.level,
                          self.pool, screen, self.options.on_bytes)
        self.written[-1] = (part, target)
        return part

    def cleanup(self) -> None:
        for _, path in self.written:
            path.unlink(missing_ok=True)


@contextmanager
def _image(entry, options: ExportOptions):
    """The program's image as env/ sources (an imported program carries its own already)."""
    if not options.include_image or entry.project_dir is None:
        yield []
        return
    from samepack.oci.carry import image_sources

    with image_sources(env_image(Path(entry.project_dir), entry.program)) as sources:
        yield sources


def _rendered(entry, options: ExportOptions, program_files: list[Source], env: list[Source],
              env_part: Part | None, git) -> tuple[list[Source], list[str]]:
    """What is rendered from the program for its part: the Kubernetes manifests, the
    provenance and the SBOM (with any warnings). Pure Python work that needs nothing of the
    code part: it runs in a thread while the code part's files are packed in worker
    processes (the trust modules are imported there too, for the same reason)."""
    from samepack.trust.exported import attestation_sources

    program = entry.program
    infra, warnings = infra_sources(program, env_image(entry.project_dir, program),
                                    options.k8s_version, listed_paths(entry, "infra"),
                                    Path(entry.path) / "infra")
    subjects = source_digests(program_files) + [(m.path, m.sha256) for m in
                                                (env_part.members if env_part else [])]
    attestations = attestation_sources(entry, subjects, git, options,
                                       {s.path: s.file for s in env if s.file is not None})
    return refuse_secrets(infra) + attestations, warnings


def _write_parts(entry, parts: _Parts, options: ExportOptions, result: ExportResult):
    """Write every part but ``data`` to temp segments; the commit time, and a maker of the
    data part's sources (given where its warnings go)."""
    program = entry.program
    imported = entry.project_dir is None
    root, files = code_files(entry)
    result.skipped += files.skipped
    if files.git and files.git.dirty:
        result.warnings.append(f"{root} has uncommitted changes; the work tree's files are "
                               "exported")
    roots = [Path(entry.workdir), Path(entry.path) / "data" / "files"]
    located = locate(program, roots)
    bundled = {d.dataset.path for d in located if options.include_data and d.member
               and d.file is not None}
    code_list = code_sources(root, files) if options.include_code else []
    if bundled:
        code_list = [s for s in code_list if s.path.removeprefix("code/") not in bundled]
    own_root, own = program_own_files(entry)
    program_files = refuse_secrets(tree_sources(
        Path(entry.path) / "program", "program", listed_paths(entry, "program"))
        + (tree_sources(own_root, "code", own) if options.include_code else []))
    env = refuse_secrets(tree_sources(Path(entry.path) / "env", "env", listed_paths(entry, "env"))
                         if imported else env_sources(Path(entry.project_dir), program))
    with _image(entry, options) as image:
        env_part = parts.write("env", env + image)
    screen = SecretScreen() if options.include_code else None
    with ThreadPoolExecutor(max_workers=1) as side:
        rendering = side.submit(_rendered, entry, options, program_files, env, env_part,
                                files.git)
        code = parts.write("code", code_list, screen) if screen is not None else None
        rendered, warnings = rendering.result()
    if screen is not None:
        result.skipped += screen.dropped
        if code is not None:
            screen.remember(code.members)
    result.warnings += warnings
    # The program part: the program file and what is rendered from it (manifests, provenance,
    # SBOM), so a version changing only the program leaves every other part as it was.
    parts.write("program", sorted(program_files + rendered, key=lambda s: s.path.encode("utf-8")))
    records = redacted_runs(_history(entry, options.runs), result.warnings)
    history = []
    if records:
        from samepack.insights.build import bundle_report  # HTML rendering: only with runs

        history = [Source(RUNS, 0o644, data=runs_bytes(records)),
                   Source(REPORT, 0o644, data=bundle_report(records, entry.ref))]
    parts.write("metadata", history)
    code_members = code.members if code else []

    def data(warnings: list[str] | None) -> list[Source]:
        return data_sources(located, options.include_data, code_members, warnings)

    return (files.git.commit_time if files.git else 0), data


def export_bundle(ref_or_entry, out: Path | None = None, options: ExportOptions | None = None,
                  store=None) -> ExportResult:
    """Export a registered program (``NAME[:VERSION]`` or an Entry) to ``out``
    (default ``NAME-VERSION.tgz``). Nothing appears at ``out`` unless the whole bundle is
    written."""
    options = options or ExportOptions()
    if options.compression not in COMPRESSIONS:
        raise InputError(f"--compression {options.compression!r} is not one of "
                         f"{', '.join(COMPRESSIONS)}", hint="use gzip or zstd")
    entry = _resolve(ref_or_entry, store)
    out = Path(out or f"{entry.name}-{entry.version}.tgz").absolute()
    check_overwrite(out, options.force)
    clean_stale_temps(out)
    result = ExportResult(out, 0, None)
    with gc_paused(), ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        parts = _Parts(out, options, pool)
        try:
            git_time, data = _write_parts(entry, parts, options, result)
            written = sorted(parts.written, key=lambda item: PART_ORDER.index(item[0].name))
            base = Manifest(entry.name, entry.version, created_time(entry, git_time),
                            options.compression, __version__, [p for p, _ in written])
            sources = data(result.warnings)
            if any(source.file is not None for source in sources):
                from samepack.bundle.write.inplace import write_with_data_in_place

                manifest = write_with_data_in_place(base, written, sources, out,
                                                    options.level, pool, options.force,
                                                    options.on_bytes)
            else:
                part = parts.write("data", sources)
                if part is not None:
                    written.append(parts.written[-1])
                manifest = replace(base, parts=[p for p, _ in written])
                assemble(manifest.to_bytes(), [(p.name, path) for p, path in written], out,
                         verify=False, force=options.force, manifest=manifest)
        finally:
            parts.cleanup()
    result.manifest, result.size = manifest, out.stat().st_size
    return result
