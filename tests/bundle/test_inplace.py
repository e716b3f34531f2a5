"""The data part is written straight into the bundle file behind a manifest of planned length
(format 3 lists no members in it, so the length is known before the data is hashed)."""

from __future__ import annotations

import os
from pathlib import Path

from samepack.bundle.write.export import ExportOptions, export_bundle
from samepack.bundle.format.layout import read_manifest
from samepack.bundle.format.manifest import SIZE_DIGITS
from samepack.bundle.read.reader import read_bundle

from .conftest import register

WITH_DATA = ExportOptions(runs="none", include_data=True)


def _temps(directory: Path) -> list[str]:
    return [name for name in os.listdir(directory) if ".samepack-tmp-" in name]


def test_data_written_in_place_gives_a_valid_bundle(mini_project: Path, tmp_path: Path) -> None:
    (mini_project / "data" / "table.csv").write_bytes(os.urandom(3 * 1024 * 1024))
    result = export_bundle(register(mini_project), tmp_path / "out.tgz", WITH_DATA)
    raw, manifest = read_manifest(tmp_path / "out.tgz")
    data = manifest.part("data")
    numbers = (data.size, data.index.size, data.index.frame)
    assert raw.endswith(b"}" + b" " * sum(SIZE_DIGITS - len(str(n)) for n in numbers))
    assert raw == result.manifest.to_bytes()
    verified = read_bundle(tmp_path / "out.tgz")
    assert {m.path for m in verified.manifest.members()} >= {"data/files/data/table.csv",
                                                             "data/pointers.json"}
    assert _temps(tmp_path) == []
