"""The data part is written straight into the bundle file behind a manifest of planned length;
when the plan misses, the bundle is assembled the usual way and comes out the same."""

from __future__ import annotations

import os
from pathlib import Path

from samepack.bundle.write import inplace
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
    assert raw.endswith(b"}" + b" " * (SIZE_DIGITS - len(str(data.size))))
    assert raw == result.manifest.to_bytes()
    verified = read_bundle(tmp_path / "out.tgz")
    assert {m.path for m in verified.manifest.members()} >= {"data/files/data/table.csv",
                                                             "data/pointers.json"}
    assert _temps(tmp_path) == []


def test_a_missed_plan_falls_back_to_the_same_bytes(mini_project: Path, tmp_path: Path,
                                                     monkeypatch) -> None:
    entry = register(mini_project)
    export_bundle(entry, tmp_path / "planned.tgz", WITH_DATA)
    predict = inplace.predicted_members

    def off_by_a_digit(sources):
        members = predict(sources)
        return [members[0]._replace(size=members[0].size * 10 + 1)] + members[1:]

    spilled = []
    copy_range = inplace._copy_range

    def watched(source, offset, size, target, target_offset):
        spilled.append(target_offset == 0 and offset > 0)
        return copy_range(source, offset, size, target, target_offset)

    monkeypatch.setattr(inplace, "predicted_members", off_by_a_digit)
    monkeypatch.setattr(inplace, "_copy_range", watched)
    export_bundle(entry, tmp_path / "fallback.tgz", WITH_DATA)
    assert spilled and spilled[0]  # the data segment was copied out: the fallback ran
    assert (tmp_path / "fallback.tgz").read_bytes() == (tmp_path / "planned.tgz").read_bytes()
    read_bundle(tmp_path / "fallback.tgz")
    assert _temps(tmp_path) == []


def test_predicted_members_match_the_written_ones(mini_project: Path, tmp_path: Path) -> None:
    (mini_project / "data" / "table.csv").write_bytes(b"x" * 70_000)
    (mini_project / "data" / "table.csv").chmod(0o755)
    result = export_bundle(register(mini_project), tmp_path / "out.tgz", WITH_DATA)
    written = result.manifest.part("data").members
    from samepack.bundle.parts.data import data_sources, locate

    entry = register(mini_project)
    located = locate(entry.program, [mini_project])
    code = result.manifest.part("code").members
    predicted = inplace.predicted_members(data_sources(located, True, code, None))
    assert [(m.path, m.size, m.mode) for m in predicted] == \
        [(m.path, m.size, m.mode) for m in written]
