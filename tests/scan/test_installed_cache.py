"""The installed-metadata index kept between scans: reused while the environment is unchanged,
rebuilt when a distribution appears or disappears, and never trusted when damaged."""

from __future__ import annotations

import json
import os
import shutil
import sys

import pytest

from samepack.scan.resolve import installed_cache
from samepack.scan.resolve.mapping import InstalledIndex


def _install(site, name: str) -> None:
    """A minimal real distribution: dist-info with METADATA and RECORD, and its package."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "RECORD").write_text(f"{name}/__init__.py,,\n{name}-1.0.dist-info/METADATA,,\n")
    (site / name).mkdir()
    (site / name / "__init__.py").write_text("")


@pytest.fixture
def site(tmp_path, monkeypatch):
    directory = tmp_path / "site"
    directory.mkdir()
    monkeypatch.setattr(sys, "path", [str(directory)] + sys.path)
    return directory


def _index_lookup(name: str) -> tuple[str, str] | None:
    index = InstalledIndex(cached=True)
    found = index.lookup(name)
    index.save()
    return found


def test_index_is_kept_and_reused_for_the_same_environment(site):
    _install(site, "cachedemo_alpha")
    assert _index_lookup("cachedemo_alpha.sub") == ("cachedemo_alpha", "cachedemo_alpha")
    kept = json.loads(installed_cache.cache_path().read_text())
    assert kept["key"] == installed_cache.environment_key()
    assert kept["top"]["cachedemo_alpha"] == ["cachedemo_alpha"]
    assert kept["modules"]["cachedemo_alpha"]["cachedemo_alpha"] is True
    # The next index answers from the file (marked here so that it shows), even after files
    # other than metadata were written beside the distribution.
    kept["top"]["cachedemo_alpha"] = ["marked"]
    kept["modules"]["marked"] = {"cachedemo_alpha": True}
    installed_cache.cache_path().write_text(json.dumps(kept))
    (site / "notes.txt").write_text("not metadata")
    assert _index_lookup("cachedemo_alpha") == ("cachedemo_alpha", "marked")


def test_installing_or_removing_a_distribution_rebuilds_the_index(site):
    _install(site, "cachedemo_alpha")
    assert _index_lookup("cachedemo_beta") is None
    _install(site, "cachedemo_beta")
    assert _index_lookup("cachedemo_beta") == ("cachedemo_beta", "cachedemo_beta")
    shutil.rmtree(site / "cachedemo_alpha-1.0.dist-info")
    assert _index_lookup("cachedemo_alpha") is None


def test_reinstalling_the_same_version_rebuilds_the_index(site):
    _install(site, "cachedemo_alpha")
    assert _index_lookup("cachedemo_gamma") is None
    (site / "cachedemo_gamma.py").write_text("")
    record = site / "cachedemo_alpha-1.0.dist-info" / "RECORD"
    record.write_text(record.read_text() + "cachedemo_gamma.py,,\n")
    os.utime(record.parent, ns=(1, 1))  # a reinstall writes a new dist-info: another mtime
    assert _index_lookup("cachedemo_gamma") == ("cachedemo_gamma", "cachedemo_alpha")


@pytest.mark.parametrize("damage", ["{not json", "[]", '{"key": "%s", "top": [], "modules": {}}'])
def test_a_damaged_cache_is_rebuilt(site, damage):
    _install(site, "cachedemo_alpha")
    path = installed_cache.cache_path()
    path.parent.mkdir(parents=True)
    path.write_text(damage.replace('"%s"', json.dumps(installed_cache.environment_key())))
    assert _index_lookup("cachedemo_alpha") == ("cachedemo_alpha", "cachedemo_alpha")
    assert json.loads(path.read_text())["top"]["cachedemo_alpha"] == ["cachedemo_alpha"]


def test_an_unwritable_cache_directory_does_not_fail_the_lookup(site):
    _install(site, "cachedemo_alpha")
    installed_cache.cache_path().parent.parent.mkdir(parents=True, exist_ok=True)
    installed_cache.cache_path().parent.write_text("a file where the directory should be")
    assert _index_lookup("cachedemo_alpha") == ("cachedemo_alpha", "cachedemo_alpha")
