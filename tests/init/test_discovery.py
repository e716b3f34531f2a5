"""Entry-point discovery and data-set discovery on small real trees."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from samepack.init.datasets import find_datasets, path_literals
from samepack.init.entrypoints import discover, plausible, select

MAIN = 'if __name__ == "__main__":\n    print("hi")\n'


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_scripts_with_main_blocks_only(tmp_path: Path) -> None:
    write(tmp_path, {"train.py": MAIN, "lib.py": "x = 1\n", "setup.py": MAIN,
                     "tests/test_x.py": MAIN, "test_y.py": MAIN, ".venv/bin/tool.py": MAIN,
                     "env2/pyvenv.cfg": "", "env2/x.py": MAIN, "sub/prep.py": MAIN,
                     "nb.ipynb": json.dumps({"cells": []})})
    found = discover(tmp_path)
    assert [(c.kind, c.path) for c in found] == [
        ("script", "train.py"), ("script", "sub/prep.py"), ("notebook", "nb.ipynb")]
    assert [c.path for c in plausible(found)] == ["train.py", "sub/prep.py"]
    assert found[0].reason == 'train.py:1 has an `if __name__ == "__main__":` block'


def test_notebooks_plausible_when_no_script(tmp_path: Path) -> None:
    write(tmp_path, {"a.ipynb": "{}", "lib.py": "x = 1\n"})
    assert [c.path for c in plausible(discover(tmp_path))] == ["a.ipynb"]


def test_mlproject_entry_points_come_first(tmp_path: Path) -> None:
    write(tmp_path, {"MLproject": "name: x\nentry_points:\n  main:\n    command: python t.py\n"
                                  "  other:\n    command: python o.py\n", "t.py": MAIN})
    found = discover(tmp_path)
    assert [(c.kind, c.name) for c in plausible(found)] == [("mlproject", "main"),
                                                             ("mlproject", "other")]
    assert select(found, "other").kind == "mlproject"
    assert select(found, "t.py").kind == "script"
    assert select(found, "./t.py").name == "t"
    assert select(found, "nope") is None


def test_path_literals_and_joins() -> None:
    code = ('import os\nfrom pathlib import Path\nA = "data/a.csv"\n'
            'B = os.path.join("data", "b.parquet")\nC = Path("data") / "c.npy"\n'
            'D = "no-suffix"\nE = "report.md"\n')
    assert path_literals(code) == [("data/a.csv", 3), ("data/b.parquet", 4), ("data/c.npy", 5)]


def test_datasets_exist_under_the_project(tmp_path: Path) -> None:
    write(tmp_path, {"data/a.csv": "x,y\n1,2\n", "data/c.npy": "binary"})
    outside = tmp_path.parent / "outside.csv"
    outside.write_text("secret\n")
    code = f'A = "data/a.csv"\nB = "data/missing.csv"\nC = "{outside}"\nD = "../outside.csv"\n' \
           'E = "data/c.npy"\nF = "data/a.csv"\n'
    found = find_datasets(tmp_path, [("train.py", code)])
    assert [(d.name, d.path, d.size, d.media_type, d.evidence) for d in found] == [
        ("a", "data/a.csv", 8, "text/csv", "train.py:1"),
        ("c", "data/c.npy", 6, "application/x-npy", "train.py:5")]
    assert found[0].sha256 == hashlib.sha256(b"x,y\n1,2\n").hexdigest()


def test_entry_may_name_a_script_without_a_main_block(tmp_path: Path) -> None:
    write(tmp_path, {"train.py": MAIN, "flat.py": "print('top-level code')\n", "notes.txt": ""})
    found = discover(tmp_path)
    chosen = select(found, "flat.py", tmp_path)
    assert (chosen.kind, chosen.path, chosen.name) == ("script", "flat.py", "flat")
    assert select(found, "flat.py").module_level  # found by itself, below the __main__ script
    assert [c.path for c in plausible(found)] == ["train.py"]
    assert select(found, "notes.txt", tmp_path) is None
    assert select(found, "../outside.py", tmp_path) is None


def test_a_root_script_doing_its_work_at_module_level_is_an_entry(tmp_path: Path) -> None:
    write(tmp_path, {"plot.py": "import numpy as np\nx = np.ones(3)\nprint(x)\n",
                     "helpers.py": "import os\n\ndef f():\n    return os.sep\nLIMIT = 3\n",
                     "pkg/run.py": "print('below the root')\n"})
    found = discover(tmp_path)
    assert [(c.path, c.module_level) for c in found] == [("plot.py", True)]
    assert "plot.py:2 does its work at module level" in found[0].reason
