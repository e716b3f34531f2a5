"""Target platforms: samepack speaks conda subdir names; uv wants its own target names."""

from __future__ import annotations

import sys

from samepack.errors import InputError

UV_PLATFORMS: dict[str, str] = {
    "linux-64": "x86_64-manylinux_2_28",
    "linux-aarch64": "aarch64-manylinux_2_28",
    "osx-64": "x86_64-apple-darwin",
    "osx-arm64": "aarch64-apple-darwin",
    "win-64": "x86_64-pc-windows-msvc",
}


def normalise_platforms(platforms: tuple[str, ...] | list[str]) -> list[str]:
    """Sorted, de-duplicated platform names; this machine's platform when none are given."""
    if not platforms:
        from samepack.machine import conda_platform

        platforms = [conda_platform()]
    chosen = sorted(set(platforms))
    unknown = [p for p in chosen if p not in UV_PLATFORMS]
    if unknown:
        raise InputError(f"--platform {unknown[0]}: unknown platform",
                         hint="use one of " + ", ".join(sorted(UV_PLATFORMS)))
    return chosen


def target_python(python: str | None) -> str:
    """``3.10`` style target; the running interpreter's when none is given."""
    if not python:
        return f"{sys.version_info.major}.{sys.version_info.minor}"
    parts = python.strip().split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:3]):
        raise InputError(f"--python {python}: not a Python version",
                         hint="give a version such as 3.10 or 3.11.9")
    return python.strip()


def uv_platform_args(platforms: list[str]) -> list[str]:
    """One platform → ``--python-platform``; several → one universal lock with markers."""
    if len(platforms) == 1:
        return ["--python-platform", UV_PLATFORMS[platforms[0]]]
    return ["--universal"]
