"""Builders for the hermetic package sources the lock tests use: real wheels in a local
directory and real conda packages in a local channel indexed by rattler's own indexer.

The wheels are written directly in the wheel format (PEP 427: a zip with ``.dist-info``
METADATA/WHEEL/RECORD), which is what ``pip wheel`` would produce for these one-file sources,
in milliseconds instead of seconds per package.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

_EPOCH = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class FakeDist:
    name: str  # distribution name, e.g. "scikit-learn"
    version: str
    modules: tuple[str, ...] = ()  # importable top-level modules, e.g. ("sklearn",)
    requires: tuple[str, ...] = ()  # Requires-Dist lines


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_wheel(dist: FakeDist, target: Path) -> Path:
    """Write ``NAME-VERSION-py3-none-any.whl`` for ``dist`` into ``target``."""
    stem = dist.name.replace("-", "_")
    info = f"{stem}-{dist.version}.dist-info"
    files: dict[str, bytes] = {}
    for module in dist.modules or (stem,):
        files[f"{module}/__init__.py"] = (
            f'"""{dist.name} {dist.version}, a small package for offline tests."""\n'
            f'__version__ = "{dist.version}"\n').encode()
    metadata = ["Metadata-Version: 2.1", f"Name: {dist.name}", f"Version: {dist.version}"]
    extras = sorted({m for req in dist.requires for m in re.findall(r'extra == "([^"]+)"', req)})
    metadata += [f"Provides-Extra: {extra}" for extra in extras]
    metadata += [f"Requires-Dist: {req}" for req in dist.requires]
    files[f"{info}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: samepack-tests\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    path = target / f"{stem}-{dist.version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=_EPOCH)
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    return path


@dataclass(frozen=True)
class FakeCondaPackage:
    name: str
    version: str
    depends: tuple[str, ...] = ()
    subdir: str = "noarch"
    build_number: int = 0
    files: dict[str, str] = field(default_factory=dict)  # prefix-relative path -> text
    links: dict[str, str] = field(default_factory=dict)  # prefix-relative path -> link target

    @property
    def build(self) -> str:
        return f"h0_{self.build_number}"


def _add(archive: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    entry = tarfile.TarInfo(name)
    entry.size, entry.mode, entry.mtime = len(data), mode, 1577836800
    archive.addfile(entry, io.BytesIO(data))


def build_conda_package(package: FakeCondaPackage, channel: Path) -> Path:
    """Write a ``.tar.bz2`` conda package into ``channel/SUBDIR``."""
    payload = package.files or {f"share/{package.name}/VERSION": package.version + "\n"}
    index = {"name": package.name, "version": package.version, "build": package.build,
             "build_number": package.build_number, "depends": list(package.depends),
             "license": "MIT", "subdir": package.subdir, "timestamp": 1577836800000}
    if package.subdir == "noarch":
        index["noarch"] = "generic"
    entries = [{"_path": p, "path_type": "hardlink", "sha256": hashlib.sha256(t.encode()).hexdigest(),
                "size_in_bytes": len(t.encode())} for p, t in payload.items()]
    entries += [{"_path": p, "path_type": "softlink"} for p in package.links]
    paths = {"paths_version": 1, "paths": sorted(entries, key=lambda e: e["_path"])}
    target = channel / package.subdir
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{package.name}-{package.version}-{package.build}.tar.bz2"
    with tarfile.open(path, "w:bz2") as archive:
        _add(archive, "info/index.json", json.dumps(index, indent=2).encode())
        _add(archive, "info/paths.json", json.dumps(paths, indent=2).encode())
        _add(archive, "info/files",
             "".join(f"{p}\n" for p in sorted([*payload, *package.links])).encode())
        for relative, text in sorted(payload.items()):
            mode = 0o755 if relative.startswith("bin/") else 0o644
            _add(archive, relative, text.encode(), mode)
        for relative, target in sorted(package.links.items()):
            link = tarfile.TarInfo(relative)
            link.type, link.linkname, link.mtime = tarfile.SYMTYPE, target, 1577836800
            archive.addfile(link)
    return path


def index_channel(channel: Path) -> None:
    """Index the channel with rattler's indexer (writes SUBDIR/repodata.json)."""
    import asyncio

    from rattler.index import index_fs

    for subdir in ("noarch", "linux-64"):
        (channel / subdir).mkdir(parents=True, exist_ok=True)
    result = index_fs(channel)
    if asyncio.iscoroutine(result):
        asyncio.run(result)


FIXTURES = Path(__file__).parent / "fixtures"


def copy_fixture(name: str, target: Path) -> Path:
    """A copy of the real project ``fixtures/NAME`` at ``target/NAME``, to lock and change."""
    root = target / name
    shutil.copytree(FIXTURES / name, root)
    return root


def channel_of(packages: list[FakeCondaPackage], target: Path) -> Path:
    """A local conda channel at ``target`` holding ``packages``, indexed."""
    for package in packages:
        build_conda_package(package, target)
    index_channel(target)
    return target


def wheels_of(dists: list[FakeDist], target: Path) -> tuple[str, ...]:
    """Wheels of ``dists`` in ``target``, and the flags that make it the only index."""
    target.mkdir(parents=True)
    for dist in dists:
        build_wheel(dist, target)
    return ("--find-links", str(target), "--no-index")


def conda_python(subdir: str = "linux-64") -> FakeCondaPackage:
    """A conda ``python`` whose prefix is a working interpreter: this machine's Python linked
    into ``bin/`` beside a ``pyvenv.cfg`` (so the prefix is the interpreter's environment, its
    ``site-packages`` where conda's Python packages and pip's go), versioned as this Python."""
    import sys

    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    version = ".".join(map(str, sys.version_info[:3]))
    config = (f"home = {base.parent}\ninclude-system-site-packages = false\n"
              f"version = {version}\n")
    return FakeCondaPackage("python", version, subdir=subdir, files={"pyvenv.cfg": config},
                            links={"bin/python": str(base)})


def conda_python_dist(name: str, version: str, pypi_name: str | None = None,
                      depends: tuple[str, ...] = (), subdir: str = "linux-64",
                      build_number: int = 0) -> FakeCondaPackage:
    """A conda package of a Python distribution as conda-forge builds them: it depends on
    python, and its ``site-packages`` holds the module and the distribution's ``.dist-info``
    (``INSTALLER`` says conda), which is what pip and uv see of it."""
    import sys

    dist = pypi_name or name
    stem = dist.replace("-", "_")
    site = f"lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"
    info = f"{site}/{stem}-{version}.dist-info"
    module = f'"""{dist} {version} from conda."""\n__version__ = "{version}"\nFROM = "conda"\n'
    files = {f"{site}/{stem}/__init__.py": module,
             f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n",
             f"{info}/INSTALLER": "conda\n"}
    files[f"{info}/RECORD"] = "".join(f"{p[len(site) + 1:]},,\n" for p in sorted(files)) + \
        f"{info[len(site) + 1:]}/RECORD,,\n"
    minor = f"{sys.version_info.major}.{sys.version_info.minor}"
    return FakeCondaPackage(name, version, subdir=subdir, build_number=build_number,
                            depends=(f"python >={minor},<{minor}.99", *depends), files=files)
