"""Somewhere else to run: the shortfall message names what fits, and `samepack devcontainer`
writes a definition that validates against the devcontainer spec's own schema."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from support import FIXTURES

SCHEMA = Path(__file__).with_name("fixtures") / "devcontainer" / "devContainer.base.schema.json"


def validate(config: dict) -> None:
    from jsonschema import Draft201909Validator

    schema = json.loads(SCHEMA.read_text())
    errors = sorted(Draft201909Validator(schema).iter_errors(config), key=str)
    assert not errors, [e.message for e in errors]


@pytest.fixture
def wine(tmp_path: Path) -> Path:
    project = tmp_path / "wine-quality"
    shutil.copytree(FIXTURES / "wine-quality", project)
    return project


def _needs_gpu(project: Path) -> None:
    program = project / "samepack.yaml"
    program.write_text(program.read_text().replace(
        "  storage: 100Mi\n", "  storage: 20Gi\n  gpus: 1\n  vram: 16Gi\n"))


def test_devcontainer_from_the_programs_resources(wine: Path, samepack) -> None:
    result = samepack("devcontainer", wine)
    assert result.exit_code == 0, result.stderr
    config = json.loads((wine / ".devcontainer" / "devcontainer.json").read_text())
    validate(config)
    # 1 cpu, 512Mi = 536,870,912 bytes, 100Mi = 104,857,600 bytes, rounded up
    assert config["hostRequirements"] == {"cpus": 1, "memory": "537mb", "storage": "105mb"}
    assert config["image"] == "mcr.microsoft.com/devcontainers/python:1-3.11-bookworm"
    assert config["postCreateCommand"] == "python -m pip install -r requirements.txt"
    again = samepack("devcontainer", wine)
    assert again.exit_code == 5 and "exists" in again.stderr


def test_devcontainer_for_a_gpu_program_with_a_dockerfile_and_hashed_lock(wine: Path,
                                                                          samepack) -> None:
    _needs_gpu(wine)
    (wine / "Dockerfile").write_text("FROM python:3.11-slim\n")
    shutil.copyfile(Path(__file__).with_name("fixtures") / "locks" / "requirements.txt",
                    wine / "requirements.txt")
    assert samepack("devcontainer", wine).exit_code == 0
    config = json.loads((wine / ".devcontainer" / "devcontainer.json").read_text())
    validate(config)
    # 20Gi = 21.47 GB, 16Gi = 17.18 GB: whole gb, rounded up
    assert config["hostRequirements"] == {"cpus": 1, "memory": "537mb", "storage": "22gb",
                                          "gpu": {"memory": "18gb"}}
    assert config["build"] == {"context": "..", "dockerfile": "../Dockerfile"}
    assert "image" not in config
    assert config["postCreateCommand"] == "python -m pip install --require-hashes -r requirements.txt"


def test_the_schema_catches_what_is_wrong() -> None:
    """The validator used above is not a rubber stamp."""
    from jsonschema import Draft201909Validator

    schema = json.loads(SCHEMA.read_text())
    bad = {"image": "x", "hostRequirements": {"cpus": 0, "memory": "512Mi"}}
    assert len(list(Draft201909Validator(schema).iter_errors(bad))) >= 1


def test_run_on_a_machine_that_falls_short_names_what_fits(wine: Path, samepack, tmp_path: Path,
                                                           monkeypatch) -> None:
    _needs_gpu(wine)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncurrent-context: lab-gpu\n"
                          "contexts: [{name: lab-gpu, context: {cluster: lab}}]\n"
                          "clusters: [{name: lab, cluster: {server: 'https://127.0.0.1:1'}}]\n")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    assert samepack("create", "program", "-f", wine / "samepack.yaml").exit_code == 0
    result = samepack("run", "program", "wine-quality")
    assert result.exit_code == 9, result.stderr
    error, hint = result.stderr.strip().splitlines()[-2:]
    assert error.startswith("error: ") and "GPU" in error
    assert "samepack run --target k8s program wine-quality" in hint
    assert "context lab-gpu" in hint and "samepack devcontainer" in hint
    assert "--ignore-resources" in hint

    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    result = samepack("run", "program", "wine-quality")
    hint = result.stderr.strip().splitlines()[-1]
    assert "--target k8s" not in hint and "samepack devcontainer" in hint
