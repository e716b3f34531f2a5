"""Programs the Kubernetes tests render, built as values so the tests depend on the model only."""

from __future__ import annotations

from samepack.program.model import (
    Dataset, Parameter, Program, Resources, Schedule, SecretRef, Step,
)

WINE_SHA = "4a402cf041b025d4566d954c3b9ba8635d3a8a803c6e6fa8bc3ae0b1e1a23e3c"


def wine_quality() -> Program:
    """Two steps, a data set, a secret, a GPU step with GPU memory, and a nightly schedule."""
    return Program(
        name="wine-quality", version="1.0", description="Predict wine quality",
        steps={
            "prepare": Step("prepare", "python prepare.py --data {datasets.wine} --out clean.csv"),
            "train": Step("train", "python train.py --epochs {params.epochs} --alpha {params.alpha}",
                          needs=["prepare"], resources=Resources(gpus=1, vram="24Gi"),
                          env={"MODEL_DIR": "{env.HOME}/models"}),
        },
        resources=Resources(cpu=2, memory="8Gi", storage="20Gi"),
        parameters={"epochs": Parameter("epochs", "int", 10),
                    "alpha": Parameter("alpha", "float", 0.5),
                    "mode": Parameter("mode", "str", "fast", choices=["fast", "full"])},
        datasets={"wine": Dataset("wine", uri="https://example.org/winequality-red.csv",
                                  sha256=WINE_SHA, size=84199, path="data/wine.csv")},
        secrets=[SecretRef("storage-key", "STORAGE_KEY")],
        env={"PROJECT_ENVIRONMENT": "production"},
        schedules={"nightly": Schedule("nightly", "0 12 * * *", {"epochs": 5})},
    )


def single_step() -> Program:
    """The smallest program: one CPU step, no data, no schedule."""
    return Program(name="Hello_World", version="0.1.0+local",
                   steps={"main": Step("main", "python -c 'print(42)'",
                                       resources=Resources(cpu=0.5, memory="256Mi"))})


def pipeline(version: str = "1.0", train: str = "python train.py --alpha {params.alpha}",
             secrets: list[SecretRef] | None = None, schedule: bool = True, name: str = "pipe",
             prepare: str = "python prepare.py") -> Program:
    """Two CPU steps (train needs prepare), a secret and a schedule: what the deploy tests
    put on the real API server."""
    return Program(
        name=name, version=version,
        steps={"prepare": Step("prepare", prepare, resources=Resources(cpu=0.1, memory="64Mi")),
               "train": Step("train", train, needs=["prepare"],
                             resources=Resources(cpu=0.1, memory="64Mi"))},
        parameters={"alpha": Parameter("alpha", "float", 0.5)},
        secrets=secrets if secrets is not None else [SecretRef("storage-key", "STORAGE_KEY")],
        schedules={"nightly": Schedule("nightly", "0 3 * * *", {"alpha": 0.3})} if schedule else {},
    )


def step_argv(container: dict) -> list[str]:
    """The step's own command inside a container's command (after the result script)."""
    command = container["command"]
    assert command[:2] == ["python3", "/etc/samepack/result.py"]
    return command[3:]
