"""Reading one file: imports (both parse modes agree), optional imports, notebooks, problems."""

from __future__ import annotations

import textwrap

import pytest

from samepack.scan.sources.fastimports import fast_imports
from samepack.scan.sources.notebook import notebook_code, pip_install_requirements
from samepack.scan.sources.python import full_imports, read_facts

OPTIONAL_CASES = [
    # (source, {module: optional})
    ("import numpy\n", {"numpy": False}),
    # the fallback for a missing import is optional too (often a Python 2 module)
    ("try:\n    import ujson\nexcept ImportError:\n    import json\n", {"ujson": True, "json": True}),
    ("try:\n    from io import StringIO\nexcept ImportError:\n    from StringIO import StringIO\n",
     {"io.StringIO": True, "StringIO.StringIO": True}),
    ("try:\n    import a\nexcept ValueError:\n    import b\n", {"a": False, "b": False}),
    ("try:\n    import a\nexcept (ValueError, ModuleNotFoundError):\n    pass\n", {"a": True}),
    ("try:\n    import a\nexcept ValueError:\n    pass\n", {"a": False}),
    ("try:\n    import a\nexcept ImportError:\n    pass\nelse:\n    import b\n", {"a": True, "b": False}),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pandas\nelse:\n    import b\n",
     {"typing.TYPE_CHECKING": False, "pandas": True, "b": False}),
    ("import typing\nif typing.TYPE_CHECKING:\n    from x import y\n", {"typing": False, "x.y": True}),
    ("try:\n    def f():\n        import inner\nexcept ImportError:\n    pass\n", {"inner": False}),
    ("def f(\n    a,\n):\n    import lazy\n", {"lazy": False}),
    ("if True:\n    try:\n        import deep\n    except ImportError:\n        deep = None\n", {"deep": True}),
    ("from google.cloud import storage, bigquery\n",
     {"google.cloud.storage": False, "google.cloud.bigquery": False}),
    ("from sklearn.ensemble import (\n    RandomForestClassifier,\n    GradientBoostingClassifier,\n)\n",
     {"sklearn.ensemble.RandomForestClassifier": False, "sklearn.ensemble.GradientBoostingClassifier": False}),
    ('def f():\n    """Example:\n\n    import not_real\n    """\n    import real\n', {"real": False}),
    ("import a.b as c, d\n", {"a.b": False, "d": False}),
]


@pytest.mark.parametrize("source,expected", OPTIONAL_CASES)
@pytest.mark.parametrize("reader", [full_imports, fast_imports], ids=["full", "fast"])
def test_imports_and_optional(reader, source, expected):
    found = {use.module: use.optional for use in reader(source)}
    assert found == expected


@pytest.mark.parametrize("reader", [full_imports, fast_imports], ids=["full", "fast"])
def test_relative_imports_keep_their_level(reader):
    uses = reader("from . import helpers\nfrom ..pkg.mod import name\n")
    assert [(u.module, u.level) for u in uses] == [("helpers", 1), ("pkg.mod.name", 2)]


def test_both_modes_agree_on_the_fixture_sources(tmp_path):
    from tests.conftest import FIXTURES

    for path in sorted(FIXTURES.glob("*/**/*.py")):
        text = path.read_text(encoding="utf-8")
        try:
            expected = full_imports(text)
        except SyntaxError:
            continue
        assert fast_imports(text) == expected, path


@pytest.mark.parametrize("name,text,reason", [
    ("py2.py", 'import urllib2\nprint "x"\n', "looks like Python 2"),
    ("broken.py", "def f(:\n    pass\n", "does not parse as Python 3 (line 1"),
    ("latin.py", None, "cannot decode as utf-8"),
    ("bad.ipynb", '{"cells": [', "not a valid notebook"),
])
@pytest.mark.parametrize("mode", ["full", "fast"])
def test_files_that_do_not_parse_are_problems(tmp_path, name, text, reason, mode):
    if text is None:
        (tmp_path / name).write_bytes(b"import os\nx = '\xe9t\xe9'\n")
    else:
        (tmp_path / name).write_text(text)
    facts = read_facts(tmp_path, name, mode)
    if mode == "fast" and name == "broken.py":
        # The fast mode parses import statements only: a syntax error elsewhere goes unnoticed
        # (documented trade-off); it must still not crash or invent imports.
        assert facts.problem is None and facts.imports == []
        return
    assert facts.problem and reason in facts.problem
    assert facts.imports == []


def test_a_dangling_link_is_an_unreadable_problem(tmp_path):
    (tmp_path / "gone.py").symlink_to(tmp_path / "missing.py")
    facts = read_facts(tmp_path, "gone.py")
    assert facts.problem.startswith("unreadable:")


def test_coding_cookie_is_honoured(tmp_path):
    (tmp_path / "old.py").write_bytes(b"# -*- coding: latin-1 -*-\nimport numpy\nx = '\xe9'\n")
    assert [u.module for u in read_facts(tmp_path, "old.py").imports] == ["numpy"]


def test_notebook_magics_shell_and_help_become_pass():
    cells = [
        {"cell_type": "code", "source": ["%matplotlib inline\n", "!pip install -q seaborn==0.13 'rich>=13'\n",
                                         "import seaborn\n", "files = !ls\n", "seaborn?"]},
        {"cell_type": "markdown", "source": "import not_code"},
        {"cell_type": "code", "source": "%%bash\nimport nothing\n"},
        {"cell_type": "code", "source": "for x in range(3):\n    %time f(x)\nimport numpy as np"},
    ]
    import json

    code, installs = notebook_code(json.dumps({"cells": cells, "nbformat": 4}).encode())
    assert installs == [("seaborn==0.13", 2), ("rich>=13", 2)]
    assert [u.module for u in full_imports(code)] == ["seaborn", "numpy"]
    assert [u.line for u in full_imports(code)] == [3, 10]


@pytest.mark.parametrize("command,expected", [
    ("!pip install plotly==5.22.0 kaleido", ["plotly==5.22.0", "kaleido"]),
    ("%pip install -r requirements.txt seaborn", ["seaborn"]),
    ("!python -m pip install -U --index-url https://x pandas", ["pandas"]),
    ('!{sys.executable} -m pip install "torch>=2"', ["torch>=2"]),
    ("!pip install ./local_pkg dist/x-1.0.whl", []),
    ("!pip list", []),
    ("!ls -la", []),
])
def test_pip_install_lines(command, expected):
    assert pip_install_requirements(command) == expected


def test_hints_skip_comments_and_find_devices():
    from samepack.scan.sources.hints import find_hints

    text = textwrap.dedent('''\
        import torch
        # model.to("cuda") in a comment does not count
        model.to("cuda:0")
        net = torch.nn.DataParallel(net)
        gpus = tf.config.list_physical_devices("GPU")
        device = "mps"
    ''')
    assert [(h.kind, h.line) for h in find_hints(text)] == [
        ("cuda", 3), ("multi_gpu", 4), ("cuda", 5), ("mps", 6)]


@pytest.mark.parametrize("source,expected", [
    # a triple quote in a comment or inside a one-line string opens nothing
    ("# the value may be ''' or \"\"\"\nimport after_comment\n", ["after_comment"]),
    ("for s in [\"''' '''\"]:\n    pass\nimport after_string\n", ["after_string"]),
    # one kind of triple quote inside the other kind's string does not close it
    ("x = '''\n\"\"\"\nimport inside\n'''\nimport outside\n", ["outside"]),
])
def test_fast_mode_string_spans(source, expected):
    assert [u.module for u in fast_imports(source)] == expected
    assert [u.module for u in full_imports(source)] == expected


def test_both_modes_agree_on_real_library_code():
    """samepack's own sources and two standard-library packages: real, varied code."""
    import email
    import importlib
    from pathlib import Path

    import samepack

    roots = [Path(samepack.__file__).parent, Path(email.__file__).parent,
             Path(importlib.import_module("asyncio").__file__).parent]
    files = [p for root in roots for p in sorted(root.rglob("*.py"))]
    assert len(files) > 100
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert fast_imports(text) == full_imports(text), path
