"""A conda environment installed from ``conda-lock.yml`` with py-rattler: the records come from
the lock itself (URL, md5, sha256), so nothing is solved again and every package is verified."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml

from samepack.errors import InputError, LockError, RemoteError
from samepack.lock.conda import _rattler


def conda_records(lock_path: Path, platform: str) -> list[Any]:
    """Rattler records for one platform of a ``conda-lock.yml``."""
    rattler = _rattler()
    try:
        document = yaml.safe_load(lock_path.read_text(encoding="utf-8"))
        packages = [p for p in document["package"]
                    if p.get("manager") == "conda" and p.get("platform") == platform]
    except (yaml.YAMLError, KeyError, TypeError) as bad:
        raise InputError(f"{lock_path.name}: not a conda-lock file ({bad})",
                         hint="regenerate it with `samepack package-env`") from bad
    if not packages:
        raise InputError(f"{lock_path.name}: no packages locked for {platform}",
                         hint=f"lock for this machine: samepack package-env --platform {platform}")
    return [_record(rattler, p) for p in packages]


def _record(rattler: Any, package: dict[str, Any]) -> Any:
    url = package["url"]
    file_name = url.rsplit("/", 1)[-1]
    subdir = url.rsplit("/", 2)[-2]
    depends = [f"{name} {spec}".strip() for name, spec in package.get("dependencies", {}).items()]
    record = rattler.PackageRecord(
        name=package["name"], version=str(package["version"]),
        build=rattler.BuildString(package.get("build") or ""), build_number=0, subdir=subdir,
        depends=depends, md5=bytes.fromhex(package["hash"]["md5"]),
        sha256=bytes.fromhex(package["hash"]["sha256"]) if package["hash"].get("sha256") else None)
    return rattler.RepoDataRecord(record, file_name, url, url.rsplit("/", 2)[0] + "/")


def install_conda(records: list[Any], prefix: Path, cache_dir: Path) -> None:
    rattler = _rattler()
    try:
        asyncio.run(rattler.install(records, target_prefix=prefix, cache_dir=cache_dir,
                                    show_progress=False))
    except Exception as failed:  # rattler raises its own exception types per failure kind
        text = " ".join(str(failed).split())[:400]
        kind = type(failed).__name__
        error = RemoteError if "Fetch" in kind or "http" in text.lower() else LockError
        raise error(f"conda install into {prefix} failed: {text}",
                    hint="check that the channels in conda-lock.yml are reachable") from failed
