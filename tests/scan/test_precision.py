"""The scanner finds what the code needs and only that: one small, real-looking case for each
cause of a wrong name seen on public ML repositories (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from samepack.scan import scan_project
from samepack.scan.sources.notebook import pip_install_requirements


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def needed(root: Path, **options) -> set[str]:
    """What the lock would get: the non-optional dependencies."""
    return {d.name for d in scan_project(root, "3.11", **options).dependencies if not d.optional}


def notebook(cells: list[str], nbformat: int = 4) -> str:
    if nbformat == 3:
        return json.dumps({"nbformat": 3, "worksheets": [{"cells": [
            {"cell_type": "code", "input": source} for source in cells]}]})
    return json.dumps({"nbformat": 4, "cells": [
        {"cell_type": "code", "source": source} for source in cells]})


def test_a_root_folder_without_init_does_not_hide_an_installed_package(tmp_path):
    # "rich" is installed here (samepack depends on it): a folder of that name holding
    # scripts is a namespace package, which Python uses only when nothing else has the name.
    write(tmp_path, {"rich/render_report.py": "print('report')\n",
                     "plots_of_ours/draw.py": "x = 1\n",
                     "train.py": "import rich\nimport plots_of_ours.draw\n"})
    scan = scan_project(tmp_path, "3.11")
    assert needed(tmp_path) == {"rich"}
    assert scan.local_modules == ["plots_of_ours"]  # a name no distribution has stays ours


def test_modules_below_a_folder_that_is_not_an_identifier_are_local(tmp_path):
    write(tmp_path, {"04-deployment/app/__init__.py": "",
                     "04-deployment/app/model.py": "import numpy\n",
                     "04-deployment/app/main.py": "from app.model import predict\nimport model\n",
                     "04-deployment/serve.py": "import app.main\n"})
    assert needed(tmp_path, use_installed=False) == {"numpy"}


def test_a_file_importing_its_own_name_means_the_installed_package(tmp_path):
    write(tmp_path, {"datasets.py": "from datasets import load_dataset\n",
                     "train.py": "import datasets\n"})
    found = needed(tmp_path, use_installed=False)
    assert found == {"datasets"}  # datasets.py's own import; train.py's is the local file
    train_only = write(tmp_path / "other", {"datasets.py": "x = 1\n", "train.py": "import datasets\n"})
    assert needed(train_only, use_installed=False) == set()


def test_python2_fallbacks_are_never_requirements(tmp_path):
    write(tmp_path, {"compat.py": (
        "try:\n    from io import StringIO\nexcept ImportError:\n    from StringIO import StringIO\n"
        "try:\n    import urllib.request as urllib2\nexcept ImportError:\n    import urllib2\n"
        "import Tkinter\nimport cPickle\n")})
    scan = scan_project(tmp_path, "3.11", use_installed=False)
    assert scan.dependencies == []


def test_an_optional_import_installed_here_is_kept_as_optional(tmp_path):
    write(tmp_path, {"fast.py": "try:\n    import rich\nexcept ImportError:\n    rich = None\n"})
    scan = scan_project(tmp_path, "3.11")
    (rich,) = [d for d in scan.dependencies if d.name == "rich"]
    assert rich.optional  # marked optional; the lock keeps it because it is installed here
    from samepack.envfiles.inputs import direct_requirements

    assert [r.name for r in direct_requirements(scan, tmp_path)] == ["rich"]
    absent = write(tmp_path / "absent", {"fast.py": (
        "try:\n    import not_installed_xyz\nexcept ImportError:\n    pass\n")})
    assert direct_requirements(scan_project(absent, "3.11"), absent) == []


def test_one_bad_cell_loses_only_its_own_imports(tmp_path):
    write(tmp_path, {"eda.ipynb": notebook([
        "import pandas as pd\n", "def broken(:\n    pass\n", "import seaborn as sns\n"])})
    scan = scan_project(tmp_path, "3.11", use_installed=False)
    assert {d.name for d in scan.dependencies} == {"pandas", "seaborn"}
    (problem,) = scan.problems
    assert problem.path == "eda.ipynb" and "line 2" in problem.reason
    assert "the other cells were read" in problem.reason


def test_a_shell_command_continued_with_backslash_does_not_break_the_notebook(tmp_path):
    write(tmp_path, {"setup.ipynb": notebook([
        "!pip install -q \\\n    transformers==4.41.0 \\\n    accelerate\n"
        "import transformers\nimport accelerate\n"])})
    scan = scan_project(tmp_path, "3.11", use_installed=False)
    assert scan.problems == []
    assert {d.name: d.status for d in scan.dependencies} == {
        "accelerate": "used", "transformers": "used"}


def test_nbformat_3_notebooks_are_read(tmp_path):
    write(tmp_path, {"old.ipynb": notebook(["import numpy as np\n", "%matplotlib inline\n"
                                            "import matplotlib.pyplot as plt\n"], nbformat=3)})
    assert needed(tmp_path, use_installed=False) == {"numpy", "matplotlib"}


@pytest.mark.parametrize("command,expected", [
    ("%pip install -qr requirements.txt", []),
    ("!pip install -q -r requirements.txt torch", ["torch"]),
    ("!pip install -rrequirements.txt torch", ["torch"]),
    ("!pip install -Uq pandas", ["pandas"]),
    ("!pip install -e . -c constraints.txt", []),
])
def test_pip_flag_clusters(command, expected):
    assert pip_install_requirements(command) == expected


def test_pip_installs_nothing_imports_are_not_requirements(tmp_path):
    write(tmp_path, {"nb.ipynb": notebook(["!pip install gdown kaggle seaborn\n",
                                           "import seaborn\n"])})
    assert needed(tmp_path, use_installed=False) == {"seaborn"}


@pytest.mark.parametrize("module,distribution", [
    ("mmseg.apis", "mmsegmentation"), ("github", "pygithub"), ("haystack", "haystack-ai"),
    ("skmultilearn.problem_transform", "scikit-multilearn"), ("ignite.engine", "pytorch-ignite"),
    ("mlx.data", "mlx-data"), ("opentelemetry.sdk.trace", "opentelemetry-sdk"), ("Mykytea", "kytea"),
    ("open_clip", "open-clip-torch"),
])
def test_import_names_that_differ_from_their_distribution(tmp_path, module, distribution):
    write(tmp_path, {"app.py": f"import {module}\n"})
    assert needed(tmp_path, use_installed=False) == {distribution}


def test_google_colab_is_no_dependency(tmp_path):
    write(tmp_path, {"nb.py": "from google.colab import drive\nimport numpy\n"})
    assert needed(tmp_path, use_installed=False) == {"numpy"}


def test_a_declared_sklearn_is_scikit_learn(tmp_path):
    write(tmp_path, {"requirements.txt": "sklearn\n", "train.py": "import sklearn\n"})
    scan = scan_project(tmp_path, "3.11", use_installed=False)
    assert {d.name: d.status for d in scan.dependencies} == {"scikit-learn": "used"}


def test_one_import_one_distribution_when_a_fork_is_declared(tmp_path):
    write(tmp_path, {"requirements.txt": "progressbar33\n", "train.py": "import progressbar\n"})
    scan = scan_project(tmp_path, "3.11", use_installed=False)
    assert {d.name: d.status for d in scan.dependencies} == {"progressbar33": "used"}


def test_a_module_elsewhere_in_the_tree_is_local_unless_a_package_has_the_name(tmp_path):
    # tests that extend sys.path to reach a script in examples/, as many repositories do
    write(tmp_path, {"examples/run_glue.py": "import numpy\n",
                     "tests/test_glue.py": "import sys\nsys.path.append('examples')\n"
                                           "import run_glue\nimport rich\n",
                     "tools/rich.py": "x = 1\n"})
    assert needed(tmp_path) == {"numpy", "rich"}  # rich is installed: tools/rich.py is no match


@pytest.mark.parametrize("parse_mode", ["full", "fast"])
def test_a_module_level_handler_that_only_rewords_the_failure_leaves_the_import_required(tmp_path, parse_mode):
    # whisper/triton_ops.py: the handler raises a clearer error, the module needs triton
    write(tmp_path, {"whisper/__init__.py": "",
                     "whisper/triton_ops.py": (
                         "import numpy as np\n\ntry:\n    import triton\n    import triton.language as tl\n"
                         "except ImportError:\n    raise RuntimeError(\"triton import failed; try "
                         "`pip install --pre triton`\")\n"),
                     "whisper/cli.py": (
                         "import sys\ntry:\n    import tqdm\nexcept ImportError as error:\n"
                         "    print('pip install tqdm', file=sys.stderr)\n    sys.exit(\n        1)\n"
                         "try:\n    import ujson as json\nexcept ImportError:\n    import json\n"),
                     # mmcv's file backends: a function asks for its package only when used
                     "mmcv/fileio/file_client.py": (
                         "class CephBackend:\n    def __init__(self, path_mapping=None):\n"
                         "        try:\n            import ceph\n        except ImportError:\n"
                         "            raise ImportError('Please install ceph to enable CephBackend.')\n")})
    found = {d.name: d.optional for d in scan_project(tmp_path, "3.11", use_installed=False,
                                                       parse_mode=parse_mode).dependencies}
    assert found == {"numpy": False, "triton": False, "tqdm": False, "ujson": True, "ceph": True}


@pytest.mark.parametrize("parse_mode", ["full", "fast"])
def test_imports_under_an_availability_check_are_optional(tmp_path, parse_mode):
    # a vendored copy of transformers: SageMaker, apex and XLA only where they are present
    write(tmp_path, {"transformers/__init__.py": "",
                     "transformers/trainer.py": (
                         "import importlib.util\nimport torch\n"
                         "from .file_utils import is_apex_available, is_sagemaker_dp_enabled\n\n"
                         "if is_apex_available():\n    from apex import amp\n\n"
                         "if is_sagemaker_dp_enabled():\n    import smdistributed.dataparallel.torch.distributed as dist\n"
                         "else:\n    import torch.distributed as dist\n\n"
                         "def world_size():\n    if _torch_xla_available:\n        import torch_xla.core.xla_model as xm\n"
                         "        return xm.xrt_world_size()\n"
                         "    elif importlib.util.find_spec('horovod') is not None:\n        import horovod.torch as hvd\n"
                         "        return hvd.size()\n    return 1\n"),
                     "train.py": "if torch_version > (2, 0):\n    import accelerate\n"
                                 "if torch.cuda.is_available():\n    import pynvml\n"})
    found = {d.name: d.optional for d in scan_project(tmp_path, "3.11", use_installed=False,
                                                       parse_mode=parse_mode).dependencies}
    assert found == {"torch": False, "apex": True, "torch-xla": True, "horovod": True,
                     "accelerate": False, "pynvml": False}  # a version or device test is none


def test_research_code_imports_map_to_the_distributions_that_ship_them(tmp_path):
    # stable-diffusion's imports of CLIP and taming-transformers: PyPI's "clip" is a clipboard
    # tool and there is no "taming"; a SageMaker-only module and Azure ML's namespace
    write(tmp_path, {"ldm/modules/encoders/modules.py": (
        "import clip\nfrom taming.modules.vqvae.quantize import VectorQuantizer2 as VectorQuantizer\n"),
        "integrations.py": "from azureml.core.run import Run\nimport smdistributed.modelparallel.torch as smp\n"})
    assert needed(tmp_path, use_installed=False) == {"openai-clip", "taming-transformers",
                                                      "azureml-core"}


def test_a_notebooks_install_from_a_repository_is_the_requirement_of_its_import(tmp_path):
    # CLIP's notebook installs ImageNetV2 from GitHub (it is not on PyPI), then imports it
    write(tmp_path, {"Prompt_Engineering.ipynb": notebook([
        "! pip install ftfy regex tqdm\n! pip install git+https://github.com/openai/CLIP.git\n",
        "import clip\nimport ftfy\n",
        "! pip install git+https://github.com/modestyachts/ImageNetV2_pytorch\n\n"
        "from imagenetv2_pytorch import ImageNetV2Dataset\n",
        "!pip install git+https://github.com/huggingface/peft.git@v0.3.0#egg=peft  # pinned\n"
        "!pip install https://example.org/wheels/nothing_imports_me-1.0-py3-none-any.whl\n"
        "import peft\n"])})
    scan = scan_project(tmp_path, "3.11", use_installed=False)
    assert scan.requirements() == [
        "CLIP @ git+https://github.com/openai/CLIP.git",  # the user's source, not the table's
        "ftfy", "ImageNetV2_pytorch @ git+https://github.com/modestyachts/ImageNetV2_pytorch",
        "peft @ git+https://github.com/huggingface/peft.git@v0.3.0"]


def test_a_declared_repository_wins_over_the_tables_name_for_the_same_import(tmp_path):
    # stable-diffusion's environment.yaml: CLIP from GitHub; the table alone would add
    # openai-clip beside it
    write(tmp_path, {"requirements.txt": "-e git+https://github.com/openai/CLIP.git@main#egg=clip\n"
                                         "git+https://github.com/openai/CLIP.git@main#egg=clip\n",
                     "ldm/encoders.py": "import clip\n"})
    scan = scan_project(tmp_path, "3.11", use_installed=False)
    assert [d.name for d in scan.dependencies] == ["clip"]
    assert scan.requirements() == ["clip @ git+https://github.com/openai/CLIP.git@main"]


def test_a_project_pypi_does_not_serve_installs_from_its_repository(tmp_path):
    # DETR's d2/ uses detectron2 (never on PyPI); LoRA's examples NVIDIA's apex (PyPI's
    # "apex" is a Pyramid toolkit)
    write(tmp_path, {"d2/train_net.py": "import detectron2.utils.comm as comm\nimport torch\n",
                     "train.py": "from apex import amp\n"})
    assert scan_project(tmp_path, "3.11", use_installed=False).requirements() == [
        "apex @ git+https://github.com/NVIDIA/apex.git",
        "detectron2 @ git+https://github.com/facebookresearch/detectron2.git", "torch"]
    write(tmp_path, {"pyproject.toml": "[tool.samepack.mapping]\napex = \"apex\"\n"})
    assert "apex" in scan_project(tmp_path, "3.11", use_installed=False).requirements()
