"""A conda environment installed from ``conda-lock.yml`` with py-rattler. The records come from
the lock itself (URL, md5, sha256), so nothing is solved again; every package file is fetched
into samepack's cache and checked against the lock's hashes before rattler installs it (the
installer does not check them itself)."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from samepack import progress
from samepack.errors import InputError, LockError, RemoteError, VerificationError
from samepack.lock.conda import _rattler
from samepack.program.yamlsource import load_bounded


def locked_packages(lock_path: Path, platform: str) -> list[dict[str, Any]]:
    """The conda packages a ``conda-lock.yml`` locks for one platform."""
    try:
        document = load_bounded(lock_path)  # the lock may come from a bundle: bounded
        packages = [p for p in document["package"]
                    if p.get("manager") == "conda" and p.get("platform") == platform]
    except (yaml.YAMLError, KeyError, TypeError) as bad:
        raise InputError(f"{lock_path.name}: not a conda-lock file ({bad})",
                         hint="regenerate it with `samepack package-env`") from bad
    if not packages:
        raise InputError(f"{lock_path.name}: no packages locked for {platform}",
                         hint=f"lock for this machine: samepack package-env --platform {platform}")
    return packages


def verified_records(lock_path: Path, platform: str, cache_dir: Path) -> list[Any]:
    """Rattler records pointing at hash-checked local copies of the locked packages."""
    rattler = _rattler()
    records = []
    packages = locked_packages(lock_path, platform)
    progress.step(f"downloading and checking the conda packages {lock_path.name} locks")
    for done, package in enumerate(packages):
        progress.count(done, len(packages))
        local = fetch_verified(package["url"], package["hash"], cache_dir)
        records.append(_record(rattler, package, local.as_uri()))
    return records


def _record(rattler: Any, package: dict[str, Any], local_url: str) -> Any:
    url = package["url"]
    subdir = url.rsplit("/", 2)[-2]
    depends = [f"{name} {spec}".strip() for name, spec in package.get("dependencies", {}).items()]
    hashes = package["hash"]
    record = rattler.PackageRecord(
        name=package["name"], version=str(package["version"]),
        build=rattler.BuildString(package.get("build") or ""), build_number=0, subdir=subdir,
        depends=depends, md5=bytes.fromhex(hashes["md5"]),
        sha256=bytes.fromhex(hashes["sha256"]) if hashes.get("sha256") else None)
    return rattler.RepoDataRecord(record, url.rsplit("/", 1)[-1], local_url,
                                  url.rsplit("/", 2)[0] + "/")


def fetch_verified(url: str, hashes: dict[str, str], cache_dir: Path) -> Path:
    """The package at ``url`` in ``cache_dir``, downloaded once and hash-checked every time."""
    name = url.rsplit("/", 1)[-1]
    target = cache_dir / (hashes.get("sha256") or hashes["md5"]) / name
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(name + ".part")
        try:
            _download(url, partial)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(target)
    data = target.read_bytes()
    sha_ok = not hashes.get("sha256") or hashlib.sha256(data).hexdigest() == hashes["sha256"]
    if not sha_ok or hashlib.md5(data).hexdigest() != hashes["md5"]:
        target.unlink()
        raise VerificationError(f"conda-lock.yml: {name} does not match its locked hash",
                                hint="the channel's file changed: check the channel, or lock "
                                     "again with `samepack package-env`")
    return target


def _download(url: str, target: Path) -> None:
    if url.startswith("file://"):
        try:
            shutil.copyfile(Path(urlparse(url).path), target)
        except OSError as failed:
            raise RemoteError(f"could not read {url}: {failed.strerror}",
                              hint="check the channels in conda-lock.yml") from failed
        return
    import requests

    from samepack.lock.channels import channel_waits

    waits = channel_waits()  # connect, then the longest silence while the file streams
    try:
        with requests.get(url, stream=True, timeout=(waits.connect, waits.request)) as response:
            response.raise_for_status()
            with target.open("wb") as stream:
                for chunk in response.iter_content(1 << 20):
                    stream.write(chunk)
    except requests.RequestException as failed:
        raise RemoteError(f"could not download {url}: {failed}",
                          hint="check the network and the channels in conda-lock.yml") from failed


def install_conda(records: list[Any], prefix: Path, cache_dir: Path) -> None:
    rattler = _rattler()
    progress.step(f"installing {len(records)} conda packages into {prefix} with rattler")
    try:
        asyncio.run(rattler.install(records, target_prefix=prefix, cache_dir=cache_dir,
                                    show_progress=False))
    except Exception as failed:  # rattler raises its own exception types per failure kind
        text = " ".join(str(failed).split())[:400]
        raise LockError(f"conda install into {prefix} failed: {text}",
                        hint="check the lock files, or rerun `samepack package-env`") from failed
