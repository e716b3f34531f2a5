"""Datasets as local paths: project files are checked in place, ``http(s)://`` and ``file://``
URIs are downloaded once into the store's cache; a declared sha256 or size that does not match
is a VerificationError."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from samepack.console import info, warn
from samepack.history.files import CHUNK, sha256_file
from samepack.errors import InputError, RemoteError, VerificationError
from samepack.program.model import Dataset, Program
from samepack.program.values import placeholders

def verify(dataset: Dataset, path: Path) -> None:
    """Check a local copy against the declared size and sha256."""
    if dataset.size is not None and path.stat().st_size != dataset.size:
        raise VerificationError(f"dataset {dataset.name}: {path} has {path.stat().st_size} bytes, "
                                f"expected {dataset.size}", "the data changed; fix datasets."
                                f"{dataset.name}.size/sha256 or restore the file")
    if dataset.sha256 and sha256_file(path) != dataset.sha256:
        raise VerificationError(f"dataset {dataset.name}: sha256 of {path.name} does not match "
                                f"{dataset.sha256[:12]}…", "the data changed; fix datasets."
                                f"{dataset.name}.sha256 or restore the file")


def _download(uri: str, target: Path) -> None:
    """Copy ``uri`` to ``target`` through a temp file beside it (no partial files)."""
    import shutil  # a run whose data sets are all local never downloads one
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".part-", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out_file:
            parsed = urlparse(uri)
            if parsed.scheme == "file":
                with open(unquote(parsed.path), "rb") as in_file:
                    shutil.copyfileobj(in_file, out_file, CHUNK)
            else:
                _http_get(uri, out_file)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _http_get(uri: str, out_file) -> None:
    import requests

    try:
        with requests.get(uri, stream=True, timeout=60) as response:
            response.raise_for_status()
            for chunk in response.iter_content(CHUNK):
                out_file.write(chunk)
    except requests.RequestException as error:
        raise RemoteError(f"cannot download {uri}: {error}", "check the URI and your network") from None


def _cached(dataset: Dataset, cache: Path) -> Path:
    key = dataset.sha256 or hashlib.sha256(dataset.uri.encode()).hexdigest()
    name = Path(urlparse(dataset.uri).path).name or "data"
    return cache / key[:32] / name


def _referenced(program: Program) -> set[str]:
    texts = [s.run for s in program.steps.values()]
    texts += [v for s in program.steps.values() for v in s.env.values()]
    return {name for text in texts for kind, name in placeholders(text) if kind == "datasets"}


def resolve_datasets(program: Program, workdir: Path, cache: Path) -> dict[str, str]:
    """``{name: absolute local path}`` for every dataset samepack can provide."""
    used = _referenced(program)
    paths: dict[str, str] = {}
    for dataset in program.datasets.values():
        local = workdir / dataset.path if dataset.path else None
        if local is not None and local.exists():
            if local.is_file():
                verify(dataset, local)
            paths[dataset.name] = str(local.resolve())
        elif dataset.uri and urlparse(dataset.uri).scheme in {"http", "https", "file"}:
            target = _cached(dataset, cache)
            if not target.exists():
                info(f"downloading dataset {dataset.name} from {dataset.uri}")
                _download(dataset.uri, target)
            try:
                verify(dataset, target)
            except VerificationError:
                target.unlink()  # never keep a bad copy in the cache
                raise
            paths[dataset.name] = str(target)
        elif dataset.name in used or (local is not None and dataset.sha256):
            # used by a step, or declared with its content's digest (so no step makes it)
            where = dataset.uri or str(local)
            raise InputError(f"dataset {dataset.name}: cannot get {where}",
                             "put the file at its path, or give an http(s):// or file:// uri")
        elif local is not None:
            paths[dataset.name] = str(local.resolve())  # produced by a step (e.g. AME data sets)
        else:
            warn(f"dataset {dataset.name}: {dataset.uri} cannot be fetched locally; not provided")
    return paths
