"""Program inference from a project and a scan value: resources, Python, lock, reasons."""

from __future__ import annotations

from pathlib import Path

from samepack.init.entrypoints import discover
from samepack.init.synth import infer_program
from samepack.scan.model import Evidence, HardwareNeeds, PythonFinding, Scan

SCRIPT = '''"""Train on GPUs."""
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=3)
if __name__ == "__main__":
    parser.parse_args()
'''


def project(tmp_path: Path, **files: str) -> Path:
    root = tmp_path / "gpu-project"
    root.mkdir()
    (root / "train.py").write_text(SCRIPT)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def scan(root: Path, gpu: bool, python: str | None) -> Scan:
    return Scan(root=str(root), target_python="3.11",
                python=PythonFinding(python, [Evidence(".python-version", 1)] if python else []),
                hardware=HardwareNeeds(gpu=gpu, multi_gpu=gpu,
                                       evidence=[Evidence("train.py", 9)] if gpu else []))


def test_gpu_python_and_lock_come_from_the_scan_and_the_project(tmp_path: Path) -> None:
    root = project(tmp_path, **{"requirements.txt": "torch==2.3.1\n"})
    entry = discover(root)[0]
    inference = infer_program(root, [entry], scan(root, gpu=True, python="3.10"), "3.11")
    program = inference.program
    assert program.resources.gpus == 1
    assert program.environment.python == "3.10" and program.environment.lock == "requirements.txt"
    assert program.description == "Train on GPUs."
    assert program.to_dict()["steps"] == {"train": {"run": "python train.py --epochs "
                                                           "{params.epochs}"}}
    why = {r.what: r.why for r in inference.reasons}
    assert why["resources.gpus"].startswith("GPU use at train.py:9 (multi-GPU code found")
    assert why["environment.python"] == "declared at .python-version:1"
    assert "samepack package-env" in why["environment.lock"]


def test_without_scan_facts_the_running_python_is_used(tmp_path: Path) -> None:
    root = project(tmp_path)
    inference = infer_program(root, discover(root)[:1], scan(root, gpu=False, python=">=3.9"),
                              "3.12", name="Other Name", version="2.0")
    program = inference.program
    assert program.resources.gpus == 0 and program.environment.python == "3.12"
    assert program.environment.lock is None
    assert (program.name, program.version) == ("other-name", "2.0")
    assert infer_program(root, discover(root)[:1], None, "3.11").program.environment.python == "3.11"
