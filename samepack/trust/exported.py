"""The attestation members an export adds beside the program (provenance and SBOM; in the
program part since bundle format 2).

A program imported from a bundle carries its original attestations unchanged (none if it had
none), so exporting it again gives the bundle it came from, byte for byte, and a signature
made on that bundle still holds.
"""

from __future__ import annotations

from pathlib import Path

from samepack.bundle.write.writer import Source
from samepack.trust.provenance import ATTESTATION_PATHS, BuildFacts, attestation_members
from samepack.envfiles.locations import BESIDE_CONDA_LOCK, BESIDE_LOCK, CONDA_LOCK, DEFAULT_LOCK
from samepack.trust.sbom import READERS


def _is_lock(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name in READERS or (name.startswith("pylock.") and name.endswith(".toml"))


def lock_paths(paths: list[str]) -> list[str]:
    """The env members the SBOM describes. Where samepack's lock went beside a user's file
    (``requirements.lock``, ``conda-lock.samepack.yml``), that file is the user's declaration or
    older lock, not the environment's."""
    names = {path.rsplit("/", 1)[-1] for path in paths}
    shadowed = {usual for usual, beside in ((DEFAULT_LOCK, BESIDE_LOCK), (CONDA_LOCK, BESIDE_CONDA_LOCK))
                if beside in names}
    return [path for path in paths if _is_lock(path) and path.rsplit("/", 1)[-1] not in shadowed]


def attestation_sources(entry, subjects: list[tuple[str, str]], git, options,
                        env_files: dict[str, Path]) -> list[Source]:
    """Sources for the provenance and SBOM members. ``subjects`` are the (path, sha256) of
    the program and env members; ``env_files`` maps env member paths to the files they came
    from."""
    if entry.project_dir is None:
        original = Path(entry.path)
        return [Source(path, 0o644, data=(original / path).read_bytes())
                for path in ATTESTATION_PATHS if (original / path).is_file()]
    from samepack import __version__
    from samepack.bundle.write.export import created_time
    from samepack.bundle.parts.selection import env_image

    locks = {path: Path(env_files[path]).read_bytes() for path in lock_paths(sorted(env_files))}
    facts = BuildFacts(
        entry.name, entry.version, __version__,
        created_time(entry, git.commit_time if git else None), subjects, locks,
        commit=git.commit if git else None, dirty=bool(git and git.dirty),
        image=env_image(Path(entry.project_dir), entry.program),
        options={"compression": options.compression, "includeCode": options.include_code,
                 "includeData": options.include_data, "runs": options.runs})
    return [Source(path, 0o644, data=data)
            for path, data in sorted(attestation_members(facts).items())]
