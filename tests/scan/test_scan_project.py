"""scan_project end to end on small real trees: walking, local vs installed, --python, hardware,
parallel reading, determinism."""

from __future__ import annotations

import os
from pathlib import Path


from samepack.scan import scan_project
from samepack.scan.sources.parallel import read_all
from samepack.scan.sources.walk import collect_files


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def names(scan) -> dict[str, str]:
    return {d.name: d.status for d in scan.dependencies}


def test_walk_skips_environments_caches_build_and_gitignored(tmp_path):
    write(tmp_path, {
        "main.py": "import numpy\n", "myenv/pyvenv.cfg": "home = /usr\n", "myenv/lib/x.py": "import a\n",
        "conda/conda-meta/history": "", "conda/lib/y.py": "import b\n", "build/z.py": "import c\n",
        "node_modules/q.py": "import d\n", "pkg.egg-info/e.py": "", ".gitignore": "scratch/\n*.tmp.py\n",
        "scratch/s.py": "import e\n", "notes.tmp.py": "import f\n", "sub/.gitignore": "gen/\n",
        "sub/gen/g.py": "import g\n", "sub/ok.py": "import h\n", "run.sh": "torchrun train.py\n",
    })
    os.mkfifo(tmp_path / "pipe.py")
    files = collect_files(tmp_path)
    assert files.sources == ["main.py", "sub/ok.py"]
    assert files.scripts == ["run.sh"]


def test_local_package_shadowing_an_installed_distribution_stays_local(tmp_path):
    # "yaml" and "packaging" are installed here; a project folder of the same name wins.
    write(tmp_path, {"yaml/__init__.py": "", "app.py": "import yaml\nimport packaging.version\n"})
    scan = scan_project(tmp_path)
    assert scan.local_modules == ["yaml"]
    assert names(scan) == {"packaging": "undeclared"}
    assert [i.mapping_source for i in scan.imports] == ["installed"]


def test_target_python_changes_the_answer(tmp_path):
    write(tmp_path, {"legacy.py": "import distutils.core\nimport imp\n"})
    assert names(scan_project(tmp_path, "3.11")) == {}
    assert names(scan_project(tmp_path, "3.12", use_installed=False)) == {"distutils": "undeclared", "imp": "undeclared"}


def test_default_target_is_the_declared_exact_python(tmp_path):
    write(tmp_path, {".python-version": "3.12.1\n", "a.py": "import distutils\n"})
    scan = scan_project(tmp_path, use_installed=False)
    assert scan.target_python == "3.12" and scan.python.version == "3.12.1"
    assert "distutils" in names(scan)


def test_python_from_runtime_txt_and_requires_python(tmp_path):
    write(tmp_path, {"runtime.txt": "python-3.11.4\n", "pyproject.toml": '[project]\nname="x"\nrequires-python = ">= 3.10"\n'})
    scan = scan_project(tmp_path)
    assert scan.python.version == "3.11.4"
    assert [str(e) for e in scan.python.evidence] == ["runtime.txt:1", "pyproject.toml:3"]
    (tmp_path / "runtime.txt").unlink()
    assert scan_project(tmp_path).python.version == ">=3.10"


def test_user_mapping_in_pyproject_wins(tmp_path):
    write(tmp_path, {"pyproject.toml": '[tool.samepack.mapping]\ncv2 = "opencv-python-headless"\n',
                     "a.py": "import cv2\n"})
    scan = scan_project(tmp_path)
    assert names(scan) == {"opencv-python-headless": "undeclared"}
    assert scan.imports[0].mapping_source == "user"


def test_hardware_from_code_and_pins(tmp_path):
    write(tmp_path, {
        "train.py": "import torch\nmodel.to('cuda')\nfrom torch.nn.parallel import DistributedDataParallel\n",
        "requirements.txt": "torch==2.3.1+cu121\nnvidia-cublas-cu12\n",
    })
    hw = scan_project(tmp_path).hardware
    assert (hw.gpu, hw.multi_gpu, hw.cuda, hw.accelerators) == (True, True, "12.1", ["cuda"])
    assert [str(e) for e in hw.evidence] == ["requirements.txt:1", "requirements.txt:2", "train.py:2", "train.py:3"]


def test_cpu_project_has_no_hardware_needs(fixture_project):
    hw = scan_project(fixture_project("wine-quality")).hardware
    assert (hw.gpu, hw.multi_gpu, hw.cuda, hw.evidence) == (False, False, None, [])


def test_parallel_and_serial_reading_agree(tmp_path):
    for i in range(60):
        padding = "# " + "x" * 20_000 + "\n"  # size without parse work
        write(tmp_path, {f"pkg{i % 3}/m{i}.py": f"import mod{i}\ntry:\n    import opt{i}\nexcept ImportError:\n    pass\n" + padding})
    files = collect_files(tmp_path)
    assert files.source_bytes > 1_000_000
    parallel = read_all(tmp_path, files.sources, "full", files.source_bytes)
    serial = read_all(tmp_path, files.sources, "full", 0)
    assert parallel == serial and len(parallel) == 60


def test_fast_and_full_modes_give_the_same_scan_on_the_fixtures(fixture_project):
    for name in ("wine-quality", "pytorch-cuda", "conda-project"):
        root = fixture_project(name)
        full = scan_project(root, use_installed=False, parse_mode="full")
        fast = scan_project(root, use_installed=False, parse_mode="fast")
        assert (full.imports, full.dependencies) == (fast.imports, fast.dependencies), name


def test_messy_never_crashes_and_reports_its_problems(fixture_project):
    scan = scan_project(fixture_project("messy"), use_installed=False)
    assert {p.path for p in scan.problems} == {"broken.py", "legacy_py2.py", "notebooks/corrupt.ipynb"}
    modules = {i.module for i in scan.imports}
    assert not any(m.startswith("bogus") for m in modules)  # .venv, build/, gitignored scratch/
    assert {"cv2", "sklearn", "PIL", "yaml", "google.cloud.storage"} <= modules
    assert {"utils", "messypkg"} <= set(scan.local_modules)
    assert {d.name for d in scan.dependencies if d.optional and d.status == "undeclared"} == {"ujson", "orjson"}
    assert {lib.name for lib in scan.system_libraries} == {"libgl1", "libglib2.0-0"}
    assert "ujson" not in scan.requirements()


def test_scan_is_deterministic(fixture_project):
    root = fixture_project("messy")
    assert scan_project(root).to_json() == scan_project(root).to_json()
