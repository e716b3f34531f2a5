"""End to end: the wine-quality example exported from one store, imported into a fresh one,
run there with the same metrics, its history restored."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import require_module


def latest_metrics(program: str) -> dict[str, float]:
    from samepack.history import History

    history = History()
    try:
        runs = history.list_runs(program)
        return runs[0].metrics if runs else {}
    finally:
        history.close()


def test_wine_quality_round_trip(fixture_project, tmp_path: Path, samepack,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("sklearn", "pandas"):
        require_module(module)
    project = fixture_project("wine-quality")
    assert samepack("create", "program", "-f", project / "samepack.yaml").exit_code == 0
    first = samepack("run", "program", "wine-quality")
    assert first.exit_code == 0, first.stderr
    metrics = latest_metrics("wine-quality")
    assert set(metrics) >= {"rmse", "mae", "r2"}
    bundle = tmp_path / "wine.tgz"
    assert samepack("export", "program", "-n", "wine-quality", "-o", bundle).exit_code == 0

    monkeypatch.setenv("SAMEPACK_HOME", str(tmp_path / "fresh-home"))
    imported = samepack("import", bundle)
    assert imported.exit_code == 0, imported.stderr
    assert "1 runs restored" in imported.stderr
    assert latest_metrics("wine-quality") == metrics  # the restored run
    second = samepack("run", "program", "wine-quality")
    assert second.exit_code == 0, second.stderr
    from samepack.history import History

    history = History()
    runs = history.list_runs("wine-quality")
    history.close()
    assert len(runs) == 2
    assert runs[0].metrics == runs[1].metrics == metrics


def test_import_env_needs_a_lock_record(fixture_project, tmp_path: Path, samepack,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    project = fixture_project("wine-quality")
    assert samepack("create", "program", "-f", project / "samepack.yaml").exit_code == 0
    bundle = tmp_path / "wine.tgz"
    assert samepack("export", "program", "-n", "wine-quality", "-o", bundle).exit_code == 0
    monkeypatch.setenv("SAMEPACK_HOME", str(tmp_path / "fresh-home"))
    result = samepack("import", bundle, "--env")
    assert result.exit_code == 4 and "env/.samepack/env.json" in result.stderr


def test_import_data_checks_every_data_set(fixture_project, tmp_path: Path, samepack,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    project = fixture_project("wine-quality")
    assert samepack("create", "program", "-f", project / "samepack.yaml").exit_code == 0
    bundle = tmp_path / "wine.tgz"
    assert samepack("export", "program", "-n", "wine-quality", "-o", bundle,
                    "--include-data").exit_code == 0
    monkeypatch.setenv("SAMEPACK_HOME", str(tmp_path / "fresh-home"))
    result = samepack("import", bundle, "--data")
    assert result.exit_code == 0, result.stderr
    assert "dataset wine:" in result.stderr and "winequality-red.csv" in result.stderr
