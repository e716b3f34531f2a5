"""Data sets a program reads, found by the path literals in its code.

Every string literal in the entry's code (argparse/click defaults included, and simple joins such
as ``os.path.join("data", "x.csv")`` or ``Path("data") / "x.csv"``) that ends in a data suffix and
names a file under the project becomes a data set with its size and sha256. Literals that point
outside the project or at nothing are ignored: init records what exists, it does not guess.
"""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from samepack.init.params import path_text as _joined

MEDIA_TYPES = {
    ".csv": "text/csv", ".tsv": "text/tab-separated-values", ".txt": "text/plain",
    ".json": "application/json", ".jsonl": "application/jsonl", ".ndjson": "application/jsonl",
    ".parquet": "application/vnd.apache.parquet", ".feather": "application/vnd.apache.arrow.file",
    ".arrow": "application/vnd.apache.arrow.file", ".npy": "application/x-npy",
    ".npz": "application/x-npz", ".h5": "application/x-hdf5", ".hdf5": "application/x-hdf5",
    ".pkl": "application/x-pickle", ".pickle": "application/x-pickle",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel", ".zip": "application/zip", ".gz": "application/gzip",
    ".tfrecord": "application/x-tfrecord", ".avro": "application/avro", ".orc": "application/x-orc",
}
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class FoundDataset:
    name: str
    path: str  # relative to the project root, POSIX
    size: int
    sha256: str
    media_type: str
    evidence: str  # file:line of the literal


def path_literals(source: str) -> list[tuple[str, int]]:
    """Every (path text, line) in ``source`` that ends in a data suffix."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found: list[tuple[str, int]] = []
    covered: set[int] = set()  # parts of a join already read whole (walk visits parents first)
    for node in ast.walk(tree):
        if id(node) in covered or not isinstance(node, (ast.Constant, ast.BinOp, ast.Call)):
            continue
        text = _joined(node)
        if text is None:
            continue
        covered.update(id(child) for child in ast.walk(node))
        if "\n" not in text and Path(text).suffix.lower() in MEDIA_TYPES:
            found.append((text, node.lineno))
    return sorted(set(found), key=lambda item: (item[1], item[0]))


def file_digest(path: Path) -> tuple[int, str]:
    """Size and sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def dataset_name(relative: str, taken: set[str]) -> str:
    """An identifier usable as ``{datasets.NAME}``: the file stem, made unique."""
    stem = Path(relative).name.split(".")[0]
    base = re.sub(r"[^A-Za-z0-9_]+", "_", stem).strip("_").lower() or "data"
    base = base if not base[0].isdigit() else f"d_{base}"
    name, counter = base, 2
    while name in taken:
        name, counter = f"{base}_{counter}", counter + 1
    return name


def _resolve(root: Path, text: str, workdir: Path) -> Path | None:
    for base in (workdir, root):
        candidate = (base / text).resolve()
        if candidate.is_file() and candidate.is_relative_to(root.resolve()):
            return candidate
    return None


def find_datasets(root: Path, sources: list[tuple[str, str]],
                  extra_paths: list[tuple[str, str]] = ()) -> list[FoundDataset]:
    """Data sets for ``sources`` (``(relative file, code)`` pairs) and ``extra_paths``
    (``(path text, evidence)``, e.g. MLproject path defaults), each file once, in order found."""
    root = root.resolve()
    candidates: list[tuple[str, str, Path]] = list(
        (text, evidence, root) for text, evidence in extra_paths)
    for relative, code in sources:
        workdir = (root / relative).parent
        candidates += [(text, f"{relative}:{line}", workdir) for text, line in path_literals(code)]
    found: list[FoundDataset] = []
    seen: set[Path] = set()
    for text, evidence, workdir in candidates:
        resolved = _resolve(root, text, workdir)
        if resolved is None or resolved in seen:
            continue
        seen.add(resolved)
        size, sha256 = file_digest(resolved)
        relative_path = resolved.relative_to(root).as_posix()
        found.append(FoundDataset(dataset_name(relative_path, {d.name for d in found}),
                                  relative_path, size, sha256,
                                  MEDIA_TYPES[resolved.suffix.lower()], evidence))
    return found
