"""Loading programs in every supported format into one model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from samepack.program import load_program
from samepack.program.canonical import canonical_yaml, program_digest
from samepack.program.schema import program_schema

REPO = Path(__file__).resolve().parents[2]
LEGACY = REPO / "fixtures" / "legacy"


def test_wine_quality_program_loads():
    program = load_program(REPO / "fixtures" / "wine-quality" / "samepack.yaml")
    assert program.ref == "wine-quality:1.0"
    assert program.parameters["alpha"].type == "float"
    assert program.parameters["alpha"].default == 0.5
    assert program.datasets["wine"].sha256.startswith("072c45f8")
    assert list(program.steps) == ["train"]
    assert program.schedules["nightly"].params == {"alpha": 0.3}
    assert program.warnings == []


def test_canonical_yaml_round_trips_and_is_schema_valid(tmp_path):
    for source in [REPO / "fixtures" / "wine-quality", LEGACY / "same-notebook",
                   LEGACY / "ame-v1", LEGACY / "ame-v2", LEGACY / "same-multienv"]:
        program = load_program(source, show_warnings=False)
        text = canonical_yaml(program)
        jsonschema.validate(program.to_dict(), program_schema())
        target = tmp_path / source.name / "samepack.yaml"
        target.parent.mkdir()
        target.write_text(text)
        again = load_program(target)
        assert program_digest(again) == program_digest(program)
        assert canonical_yaml(again) == text  # byte-identical: deterministic


def test_schema_ships_inside_the_package():
    import samepack.program

    shipped = Path(samepack.program.__file__).parent / "schema.json"
    assert json.loads(shipped.read_text())["$schema"].endswith("2020-12/schema")


def test_same_yaml_with_tagged_notebook():
    program = load_program(LEGACY / "same-notebook" / "same.yaml", show_warnings=False)
    assert program.source_format == "same"
    assert program.name == "samplenotebook" and program.version == "0.0.53"
    assert list(program.steps) == ["same_step_0", "same_step_1"]
    assert program.steps["same_step_1"].needs == ["same_step_0"]
    assert program.steps["same_step_1"].notebook == "sample_notebook.ipynb#same_step_1"
    assert program.parameters["epochs"].type == "int" and program.parameters["epochs"].default == 3
    assert program.datasets["USER_HISTORY"].path == "user_history.csv"
    assert program.environment.lock == "requirements.txt"
    joined = "\n".join(program.warnings)
    assert "same.yaml:15: datasets.USER_HISTORY.environments.PROD" in joined
    assert "magic" in joined and "becomes 'samplenotebook'" in joined


def test_same_notebook_with_embedded_config():
    program = load_program(LEGACY / "same-embedded" / "embedded.ipynb")
    assert program.source_format == "same"
    assert program.ref == "embedded-notebook:0.2.0"
    assert program.steps["same_step_0"].notebook == "embedded.ipynb#same_step_0"
    assert program.parameters["greeting"].default == "hello"


def test_same_older_base_images_and_environments_per_step():
    program = load_program(LEGACY / "same-multienv", show_warnings=False)
    assert list(program.steps) == ["same_step_0", "same_step_1", "same_step_2"]
    assert program.steps["same_step_1"].image == "library/python:3.7-slim-buster"
    assert program.parameters["sample_complicated_parameter"].type == "str"
    assert json.loads(program.parameters["sample_complicated_parameter"].default)["field_int"] == 44
    assert any("credentials" in w for w in program.warnings)


def test_ame_older_generation():
    program = load_program(LEGACY / "ame-v1" / "ame.yaml", show_warnings=False)
    assert program.source_format == "ame"
    assert list(program.steps) == ["main-data", "main-train", "echo"]
    assert program.steps["main-train"].needs == ["main-data"]
    assert program.steps["main-data"].env == {"MODE": "dataprep", "S3_BUCKET": "mybucket"}
    assert program.steps["main-train"].resources.memory == "64Mi"
    assert [(s.name, s.env) for s in program.secrets] == [("s3secret", "STORAGE_S3_SECRET")]
    assert program.schedules["nightly"].cron == "0 3 * * *"
    assert program.schedules["nightly"].steps == ["main-data", "main-train"]


def test_ame_newer_generation():
    program = load_program(LEGACY / "ame-v2" / "ame.yaml", show_warnings=False)
    assert program.source_format == "ame-v2"
    assert program.name == "sklearn-logreg"
    assert program.environment.python == "3.11"
    assert program.steps["train"].needs == ["fetch"]  # through the data set it uses
    assert program.steps["train"].resources.cpu == 1  # from the template
    assert program.steps["train"].env == {"MODE": "training"}
    assert program.steps["retrain"].run == "python train.py"  # taskRef
    assert program.secrets[0].env == "BLOB_KEY"
    assert program.schedules["train"].cron == "0 12 * * *"
    warnings = "\n".join(program.warnings)
    assert "poetry executor" in warnings and "models" in warnings


def test_directory_without_program_file(tmp_path):
    from samepack.errors import InputError

    with pytest.raises(InputError, match="no program file"):
        load_program(tmp_path)


def test_notebook_step_script_injects_parameters(tmp_path):
    from samepack.program.notebook import read_notebook, step_script

    notebook = read_notebook(LEGACY / "same-notebook" / "sample_notebook.ipynb").data
    script = step_script(notebook, "same_step_0", {"epochs": 7, "learning_rate": 0.5})
    assert script.index("epochs = 2") < script.index("epochs = 7")  # after the parameters cell
    later = step_script(notebook, "same_step_1", {"epochs": 7, "learning_rate": 0.5})
    assert later.index("# parameters injected") < later.index("_sp_cell(globals()")
    assert "# %matplotlib inline" in later
    shutil.copy(LEGACY / "same-notebook" / "sample_notebook.ipynb", tmp_path)
