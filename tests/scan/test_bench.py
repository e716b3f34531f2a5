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


def test_import_truth_checks_each_name_against_the_distributions_own_files(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMEPACK_BENCH_OFFLINE", "1")  # PyPI's answers: tests/scan/test_bench_pypi.py
    monkeypatch.setenv("SAMEPACK_BENCH_CACHE", str(tmp_path / "cache"))
    sys.path.insert(0, str(REPO_ROOT / "bench"))
    try:
        import import_truth
    finally:
        sys.path.remove(str(REPO_ROOT / "bench"))
    assert "yaml" in import_truth.providers("pyyaml")
    assert import_truth.providers("no-such-distribution-here") is None
    (tmp_path / "utils.py").write_text("")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text("")
    (tmp_path / "hooks").mkdir()
    (tmp_path / "hooks" / "wandb.py").write_text("def log(x):\n    import wandb\n    wandb.log(x)\n")
    own = import_truth.own_modules(tmp_path, lambda root: sorted(root.rglob("*")))
    assert own == {"utils", "models"}
    tops = {"os", "yaml", "utils", "models", "urllib2", "click"}
    third = import_truth.third_party_imports(tops, own, declared={"click"})
    assert third == {"yaml", "urllib2", "click"}  # urllib2: no distribution will provide it
    right, wrong, unverified = import_truth.judge(["pyyaml", "click", "rich", "urllib3"], third,
                                                  declared={"click"})
    assert right == ["pyyaml", "click"] and wrong == ["rich", "urllib3"] and unverified == []
