"""bench/scan.py keeps working: its scoring, and one real comparison with pipreqs."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.conftest import FIXTURES, REPO_ROOT, require_module


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_scan", REPO_ROOT / "bench" / "scan.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_names_and_scores(bench):
    assert bench.names_of("Pandas>=2\nscikit_learn\n# c\nrich[jupyter]==13 ; python_version>'3'\n") == [
        "pandas", "rich", "scikit-learn"]
    assert bench.score(["a", "b"], ["b", "c"], ok=True) == bench.Score(0.5, 0.5, 0.5)
    assert bench.score(["a"], ["a"], ok=False) == bench.Score(0.0, 0.0, 0.0)
    assert bench.score(["a"], [], ok=True) == bench.Score(None, None, None)


@pytest.mark.slow
def test_one_project_against_pipreqs(bench):
    require_module("pipreqs")  # the benchmark runs this interpreter's pipreqs
    result = bench.bench_project(FIXTURES / "conda-project")
    assert result.samepack.ok and result.pipreqs.ok
    assert result.declared == ["numpy", "pyyaml", "rich", "scipy"]
    assert result.samepack_score.f1 == 1.0
    assert "conda-project" in bench.report([result])
