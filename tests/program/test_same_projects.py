"""SAME's own notebooks (fixtures/same-project, fixtures/same-samples), read and run as SAME did:
steps split on tags of any cell, state carried from step to step, and the final state SAME's
own tests check (test/testdata/__init__.py there)."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from samepack.history import History
from samepack.program import load_program
from samepack.program.notebook import notebook_steps, read_notebook
from samepack.program.notebook_script import RUNTIME, split_future, step_script
from support import require_module

SAME = Path(__file__).resolve().parents[2] / "fixtures" / "same-project"


def final_state(name: str) -> dict:
    """The notebook state the last step of the latest run left, restored as a next step would."""
    from samepack.paths import samepack_home

    run = History().list_runs(limit=1)[0]
    assert run.status == "succeeded", run
    state_file = samepack_home() / "runs" / run.id / "scripts" / f"{name}.state.pickle"
    namespace: dict = {}
    exec(compile(RUNTIME, "<runtime>", "exec"), namespace)
    namespace["_sp_restore"](namespace, str(state_file))
    return namespace


def _run(samepack, project: Path) -> str:
    result = samepack("run", "-f", project / "same.yaml")
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


@pytest.mark.parametrize("feature,steps", [("singlestep", 1), ("multistep", 3),
                                           ("function_references", 1), ("imported_functions", 1)])
def test_same_features_end_with_the_state_same_checks(samepack, tmp_path, feature, steps):
    project = shutil.copytree(SAME / "features" / feature, tmp_path / feature)
    output = _run(samepack, project)
    assert "cannot be carried" not in output and "Error" not in output
    assert len(History().list_runs(limit=1)[0].steps) == steps
    state = final_state(feature)
    if feature in ("singlestep", "multistep"):
        assert state["y"] == "1"  # x set to 1 by a() in the step before, dumped in the last
    elif feature == "function_references":
        assert state["x"] == 1
    else:
        assert json.loads(state["x"])["x"] == 0


def test_same_serialised_modules(samepack, tmp_path):
    require_module("numpy")
    project = shutil.copytree(SAME / "features" / "serialised_modules", tmp_path / "modules")
    _run(samepack, project)
    state = final_state("serialised_modules")
    encoded = base64.urlsafe_b64encode(b"test")
    assert state["x"] == encoded and state["y"] == encoded and state["z"] == encoded
    assert state["b64"] is base64 and list(state["a"]) == [1, 2, 3]


def test_same_exploding_variables(samepack, tmp_path):
    project = shutil.copytree(SAME / "features" / "exploding_variables", tmp_path / "explode")
    _run(samepack, project)
    state = final_state("exploding_variables")
    with pytest.raises(RuntimeError, match="x was not carried over .*generator"):
        next(state["x"])
    with pytest.raises(TypeError):  # a list is carried (SAME made it explode for its size)
        next(state["y"])
    assert len(state["y"]) == 2_000_000


@pytest.mark.parametrize("name,steps,cells", [
    ("code", 1, 3), ("code_tag", 2, 2), ("code_tag_code", 2, 2), ("tag", 2, 2),
    ("tag_code", 1, 1), ("tag_code_tag", 2, 2), ("tag_code_tag_code", 2, 2), ("tag_tag", 2, 2),
    ("tag_tag_code", 2, 2), ("code_tag_code_tag_code", 3, 3),
    ("code_code_tag_code_code_tag_code_code", 3, 6),
])
def test_same_tagged_notebooks_split_as_same_splits_them(name, steps, cells):
    notebook = read_notebook(SAME / "tagged" / f"{name}.ipynb").data
    assert len(notebook["cells"]) == cells
    assert len(notebook_steps(notebook)) == steps
    program = load_program(SAME / "tagged" / f"{name}.yaml", show_warnings=False)
    assert len(program.steps) == steps


def test_step_tags_on_markdown_cells_split_steps():
    program = load_program(SAME / "pytorch" / "bag_of_words" / "same.yaml", show_warnings=False)
    assert list(program.steps) == ["same_step_0", "same_step_1", "same_step_2"]
    assert program.steps["same_step_2"].needs == ["same_step_1"]


def test_image_and_environment_tags():
    program = load_program(SAME / "generic" / "same.yaml", show_warnings=False)
    images = {name: step.image for name, step in program.steps.items()}
    notebook = read_notebook(SAME / "generic" / "sample_notebook.ipynb").data
    tagged = [s for s in notebook_steps(notebook) if s.image]
    assert tagged and all(images[s.name] == s.image for s in tagged)
    assert "python:3.8-slim-buster" in images.values()


def test_cache_tag_is_named_in_a_warning():
    samples = SAME.parent / "same-samples" / "archive" / "automated_notebook"
    program = load_program(samples / "same.yaml", show_warnings=False)
    assert any("cache=P10D is not honoured" in w for w in program.warnings)


def test_future_imports_go_first(tmp_path):
    code = '"""doc"""\nimport os\nfrom __future__ import annotations\nx: int = 1\n'
    futures, rest = split_future(code)
    assert futures == ["from __future__ import annotations"]
    assert "from __future__" not in rest.replace("pass  # from __future__", "")
    assert rest.count("\n") == code.count("\n")  # line numbers of the cell kept


FOUR_STEPS = [
    ("", "from __future__ import annotations\nimport pandas as pd\n"
         "class Scaler:\n    def __init__(self, k: float):\n        self.k = k\n"
         "    def apply(self, frame):\n        return frame * self.k\n"
         "def total(frame) -> float:\n    return float(frame.to_numpy().sum())\n"
         "frame = pd.DataFrame({'a': [1, 2], 'b': [3, 4]})\nscaler = Scaler(2)\n"),
    ("same_step_1", "%matplotlib inline\nframe = scaler.apply(frame)\n"
                    "def grown(frame) -> float:\n    return total(frame) * 10\n"
                    "squares = (i * i for i in range(3))\n"),
    ("same_step_2", "class Doubler(Scaler):\n    pass\nframe = Doubler(1).apply(frame)\n"
                    "counter = [total(frame)]\n"),
    ("same_step_3", "frame['c'] = frame['a'] + frame['b']\ncounter.append(grown(frame))\n"
                    "print('total:', total(frame), 'grown:', grown(frame), counter)\n"
                    "print('kinds:', type(scaler).__name__, isinstance(Doubler(3), Scaler))\n"),
]


def four_step_notebook(directory: Path) -> Path:
    """A notebook of four steps (the first tag on a markdown cell) that carries functions,
    classes, a DataFrame and a generator; ``same.yaml`` beside it."""
    cells = []
    for tag, code in FOUR_STEPS:
        if tag:
            cells.append({"cell_type": "markdown", "metadata": {"tags": [tag]}, "source": [f"## {tag}"]})
        cells.append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                      "source": code.splitlines(keepends=True)})
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "four.ipynb").write_text(json.dumps({"cells": cells, "metadata": {},
                                                      "nbformat": 4, "nbformat_minor": 5}))
    (directory / "same.yaml").write_text(
        "apiVersion: projectsame.io/v1alpha1\nmetadata: {name: four, version: 0.0.1}\n"
        "notebook: {name: four, path: four.ipynb}\n"
        "environments: {default: {image_tag: library/python:3.11-slim}}\n")
    return directory


def test_four_steps_carry_functions_classes_and_a_dataframe(samepack, tmp_path):
    require_module("pandas")
    project = four_step_notebook(tmp_path / "four")
    output = _run(samepack, project)
    # (2+6+4+8)=20 after doubling and the new column c = a + b doubles the sum: 40
    assert "[same_step_3] total: 40.0 grown: 400.0 [20.0, 400.0]" in output
    assert "[same_step_3] kinds: Scaler True" in output
    assert output.count("squares cannot be carried to the next step") == 1
    assert "generator" in output


def test_step_script_is_a_valid_program_for_every_step(tmp_path):
    project = four_step_notebook(tmp_path / "four")
    notebook = read_notebook(project / "four.ipynb").data
    for step in notebook_steps(notebook):
        script = step_script(notebook, step.name, {}, str(tmp_path / "state.pickle"))
        compile(script, step.name, "exec")  # the future import is first in every step
        assert script.startswith("from __future__ import annotations")


SAMPLES = SAME.parent / "same-samples"


def test_go_era_notebook_package_runs_like_later_files():
    program = load_program(SAMPLES / "archive" / "automated_notebook" / "same.yaml",
                           show_warnings=False)
    assert program.ref == "druganalysis:0.0.10" and program.source_format == "same"
    assert list(program.steps) == ["same_step_0", "same_step_1", "same_step_2"]
    assert program.steps["same_step_1"].notebook == "sample_notebook.ipynb#same_step_1"
    assert program.parameters["percent_to_withhold_for_test"].default == 0.3
    assert program.description == "Analyzing drug interactions"


@pytest.mark.parametrize("sample,package", [("complex_graph", "complexpipeline.py"),
                                            ("houseprice", "houseprice.py")])
def test_go_era_kubeflow_pipeline_package_is_refused_with_the_reason(samepack, sample, package):
    result = samepack("create", "program", "-f", SAMPLES / "archive" / sample / "same.yaml")
    assert result.exit_code == 3
    assert f"pipeline.package: {package} is a Kubeflow pipeline" in result.stderr
    assert "base_images" not in result.stderr and "Traceback" not in result.stderr


def test_go_era_sections_are_named_in_warnings(tmp_path):
    """houseprice's same.yaml with a notebook as its package (its own is a Kubeflow .py)."""
    text = (SAMPLES / "archive" / "houseprice" / "same.yaml").read_text()
    (tmp_path / "same.yaml").write_text(text.replace('package: "houseprice.py"',
                                                     'package: "sample_notebook.ipynb"'))
    shutil.copy(SAMPLES / "archive" / "automated_notebook" / "sample_notebook.ipynb", tmp_path)
    program = load_program(tmp_path / "same.yaml", show_warnings=False)
    warned = "\n".join(program.warnings)
    for field in ("bases", "envfiles", "resources", "workflow", "metadata.sha",
                  "debugging_features_flags"):
        assert f": {field}" in warned, field
    assert program.datasets["DS1_name"].uri == "https://unused.com"
    assert program.parameters["epochs"].default == 22 and program.labels["label1"] == "value1"


def test_same_samples_current_format():
    program = load_program(SAMPLES / "02-multi-step-notebook" / "same.yaml", show_warnings=False)
    assert list(program.steps) == ["same_step_0", "same_step_1", "same_step_2"]
    assert program.steps["same_step_1"].image == "python:3.8-slim-buster"
    road = load_program(SAMPLES / "03-road-signs" / "same.yaml", show_warnings=False)
    assert road.environment.lock == "requirements.txt"
    assert road.labels == {"same-run-name": "notebook run"}  # metadata.labels: [] is no labels


def test_notebook_steps_render_on_the_cluster_with_their_cells(tmp_path):
    """Each Job's command carries its step's cells; run in order as the pods would run them
    (here, with the workspace in a temporary folder), they carry the state as locally."""
    require_module("pandas")
    import subprocess
    import sys

    from samepack.k8s import render_manifests, validate_manifests
    from samepack.k8s.objects.notebook import notebook_command

    project = four_step_notebook(tmp_path / "four")
    program = load_program(project / "same.yaml", show_warnings=False)
    objects = render_manifests(program, image="img:1", run_id="abc")
    validate_manifests(objects)
    jobs = {job["metadata"]["labels"]["samepack.dev/step"]: job
            for job in objects if job["kind"] == "Job"}
    assert sorted(jobs) == ["same-step-0", "same-step-1", "same-step-2", "same-step-3"]
    names = list(program.steps)
    for name, (_, code) in zip(names, FOUR_STEPS):
        pod = jobs[name.replace("_", "-")]["spec"]["template"]["spec"]
        container = next(c for c in pod["initContainers"] + pod["containers"]
                         if c["name"] == name.replace("_", "-"))
        wrapper, command = container["command"][:3], container["command"][3:]
        assert wrapper[:2] == ["python3", "/etc/samepack/result.py"]  # reports the step's result
        assert command[:2] == ["python", "-c"] and command[3].endswith(f"/{name}.py")
        assert code.splitlines()[-1] in command[4]  # the cell itself, in the command
    output = ""
    for name in names:
        argv = notebook_command(program, program.steps[name], {}, str(tmp_path / "ws"), [sys.executable])
        done = subprocess.run(argv, cwd=project, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        output += done.stdout
    assert "total: 40.0 grown: 400.0 [20.0, 400.0]" in output


def test_a_version_written_as_a_number_is_read_as_written(tmp_path):
    project = shutil.copytree(SAME / "features" / "multistep", tmp_path / "multistep")
    config = project / "same.yaml"
    config.write_text(config.read_text().replace("version: 0.0.1", "version: 1.10"))
    assert load_program(config, show_warnings=False).version == "1.10"


def test_carried_in_the_order_bound_and_what_cannot_be_is_named(tmp_path):
    """A class whose body reads a constant, its instance, a lambda, an alias, a closure and a
    dict holding a lambda: each step gets back all but the last two, which say why."""
    import subprocess
    import sys

    cells = [
        ("", "LIMIT = 3\nclass Box:\n    size = LIMIT\n    def __init__(self, v):\n"
             "        self.v = v\nb = Box(2)\nsq = lambda x: x * x\nalias = sq\n"
             "fns = {'a': lambda: 1}\ndef outer():\n    def inner():\n        return 1\n"
             "    return inner\ninner = outer()\n"),
        ("same_step_1", "print(b.v, Box.size, sq(3), alias(4))\n"),
        ("same_step_2", "print(b.v + 1, isinstance(b, Box), sq(5))\ntry:\n    inner()\n"
                        "except RuntimeError as error:\n    print(error)\n"),
    ]
    notebook = {"cells": [{"cell_type": "code", "metadata": {"tags": [tag] if tag else []},
                           "source": code} for tag, code in cells]}
    state = str(tmp_path / "state.pickle")
    out, err = "", ""
    for step in notebook_steps(notebook):
        script = tmp_path / f"{step.name}.py"
        script.write_text(step_script(notebook, step.name, {}, state))
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        out, err = out + done.stdout, err + done.stderr
    assert "2 3 9 16\n3 True 25\n" in out
    # the last step leaves the state itself; what carried it between steps is gone (on a
    # cluster's shared workspace no run close would remove it)
    assert Path(state).is_file() and not Path(state + ".carry").exists()
    assert "inner was not carried over from an earlier step (a function: it is defined inside" in out
    assert err.count("cannot be carried to the next step") == 2  # fns and inner, once each
