"""Dockerfile and .dockerignore rendering, base-image choice, context staging, env.json record:
pure or local-disk only, no builder needed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from samepack.errors import InputError
from samepack.image.base import choose_base_image, cuda_from_lock, python_minor
from samepack.image.context import ContextPlan, ignore_spec, stage_context
from samepack.image.dockerfile import (
    DockerfileInputs, apt_packages, render_dockerfile, render_dockerignore,
)
from samepack.image.project import clean_url
from samepack.image.record import ImageRecord, read_image, record_image
from tests.k8s.golden import assert_golden

EPOCH = 1700000000


def _inputs(base, **extra) -> DockerfileInputs:
    return DockerfileInputs(name="wine-quality", version="1.0", base=base,
                            source_date_epoch=EPOCH, source="https://example.org/wine.git",
                            revision="0123456789abcdef0123456789abcdef01234567", **extra)


def test_cpu_dockerfile_matches_golden_file():
    base = choose_base_image(python="3.11", gpu=False, cuda_versions=[None, None])
    text = render_dockerfile(_inputs(base, apt_packages=apt_packages(["libgomp1"], base)))
    assert_golden("image/Dockerfile.cpu", text)
    assert "FROM python:3.11-slim AS system\n" in text
    assert "--require-hashes" in text and "USER 1000:1000" in text
    image = _final_stage(text)
    assert image.startswith("FROM system\nCOPY --from=install /opt/venv /opt/venv\n")
    assert "/opt/python" not in text  # the base's own Python, at the same path in both stages


def _final_stage(dockerfile: str) -> str:
    """The image's own stage: from its FROM line on; what it copies from the install stage
    is all it keeps of it."""
    final = dockerfile.rindex("\nFROM ") + 1
    image = dockerfile[final:]
    assert "/tmp/samepack" not in image and "samepack-build" not in image
    assert "--mount=type=secret" not in image and " AS " not in image.splitlines()[0]
    return image


def test_gpu_dockerfile_matches_golden_file():
    lock = "torch==2.1.0+cu121 \\\n    --hash=sha256:00\n"
    base = choose_base_image(python="3.11", gpu=True, cuda_versions=[cuda_from_lock(lock), "11.8"])
    text = render_dockerfile(_inputs(base, apt_packages=apt_packages(["libgl1"], base),
                                     wheelhouse=True))
    assert_golden("image/Dockerfile.gpu", text)
    assert "FROM nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04 AS system\n" in text
    assert _final_stage(text).startswith("FROM system\nCOPY --from=install /opt/python "
                                         "/opt/python\nCOPY --from=install /opt/venv /opt/venv\n")
    # The CUDA base has no Python of its own, and Ubuntu's would not be the locked 3.11.
    assert "uv python install 3.11 \\\n && /tmp/samepack/uv venv --python 3.11 " in text
    assert "      python3 \\\n" not in text
    assert "--offline --no-index --find-links /tmp/samepack/wheels" in text


def test_dockerignore_matches_golden_file():
    text = render_dockerignore(["data/wine.csv", "raw/"], ["notes/", "*.log"])
    assert_golden("image/dockerignore", text)


def test_rendering_is_deterministic():
    base = choose_base_image(python="3.10", gpu=False, cuda_versions=[])
    assert render_dockerfile(_inputs(base)) == render_dockerfile(_inputs(base))


def test_labels_carry_oci_annotations_from_source_date_epoch():
    labels = _inputs(choose_base_image(python="3.11", gpu=False, cuda_versions=[])).labels()
    assert labels["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z"
    assert labels["org.opencontainers.image.revision"].startswith("0123")
    assert labels["org.opencontainers.image.source"] == "https://example.org/wine.git"
    assert labels["org.opencontainers.image.version"] == "1.0"
    assert list(labels) == sorted(labels)


@pytest.mark.parametrize("python, gpu, cudas, override, expected", [
    ("3.11", False, [], None, "python:3.11-slim"),
    ("3.10", False, [None, None], None, "python:3.10-slim"),
    ("3.11", True, [None, "11.8"], None, "nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04"),
    ("3.11", False, ["12.4"], None, "nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04"),
    ("3.11", True, ["12.3"], None, "nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04"),
    ("3.11", True, [], None, "nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04"),
    ("3.11", True, ["12.1"], "registry.local/base:1", "registry.local/base:1"),
])
def test_base_image_choice(python, gpu, cudas, override, expected):
    assert choose_base_image(python=python, gpu=gpu, cuda_versions=cudas,
                             override=override).ref == expected


@pytest.mark.parametrize("lock, cuda", [
    ("torch==2.1.0+cu121 \\\n", "12.1"), ("torchvision==0.16.0+cu118\n", "11.8"),
    ("nvidia-cuda-runtime-cu12==12.4.127 \\\n", "12.4"), ("numpy==1.26.4\n", None)])
def test_cuda_version_read_from_the_lock(lock, cuda):
    assert cuda_from_lock(lock) == cuda


@pytest.mark.parametrize("text, expected", [("3.11", "3.11"), (">=3.10", "3.10"),
                                            ("3.12.1", "3.12"), (None, "3.9")])
def test_python_minor(text, expected):
    assert python_minor(text, "3.9") == expected


def test_credentials_are_stripped_from_the_source_url():
    assert clean_url("https://user:ghp_token@github.com/o/r.git") == "https://github.com/o/r.git"
    assert clean_url("git@github.com:o/r.git") == "git@github.com:o/r.git"


@pytest.mark.parametrize("path, ignored", [
    (".env", True), ("config/.env.production", True), ("keys/server.pem", True),
    ("home/.ssh/id_rsa", True), (".aws/credentials", True), ("gcp-credentials.json", True),
    ("data/wine.csv", True), ("mlruns/0/meta.yaml", True), ("model.pt", True),
    (".venv/bin/python", True), ("pkg/__pycache__/x.pyc", True),
    ("train.py", False), ("src/pkg/secret_sauce.py", False), ("requirements.txt", False),
    ("src/pkg/data.py", False)])
def test_dockerignore_keeps_secrets_and_data_out(path, ignored):
    assert ignore_spec(render_dockerignore()).match_file(path) is ignored


def _project(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "train.py").write_text("print('train')\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(root / "run.sh", 0o700)
    (root / ".env").write_text("TOKEN=secret\n")
    (root / "data").mkdir()
    (root / "data" / "big.csv").write_text("a,b\n")
    (root / "requirements.txt").write_text("six==1.17.0 --hash=sha256:00\n")
    (root / "link-out").symlink_to("/etc/hostname")
    return root


def test_staged_context_holds_only_shippable_files_with_fixed_times(tmp_path):
    project = _project(tmp_path / "project")
    uv = tmp_path / "uv"
    uv.write_text("binary")
    plan = ContextPlan(project=project, dockerfile="FROM scratch\n",
                       dockerignore=render_dockerignore(), lock_file=project / "requirements.txt",
                       uv_binary=uv, mtime=EPOCH)
    staged = stage_context(plan, tmp_path / "ctx")
    assert staged.files == ["requirements.txt", "run.sh", "src/train.py"]
    ctx = tmp_path / "ctx"
    assert not (ctx / "app" / ".env").exists() and not (ctx / "app" / "data").exists()
    assert (ctx / "samepack-build" / "uv").read_text() == "binary"
    assert (ctx / "Dockerfile").read_text() == "FROM scratch\n"
    assert (ctx / "app" / "run.sh").stat().st_mode & 0o777 == 0o755
    assert (ctx / "app" / "src" / "train.py").stat().st_mode & 0o777 == 0o644
    assert {int(p.stat().st_mtime) for p in ctx.rglob("*")} == {EPOCH}


def test_missing_lock_is_an_input_error(tmp_path):
    project = _project(tmp_path / "project")
    plan = ContextPlan(project=project, dockerfile="", dockerignore="",
                       lock_file=project / "missing.txt", uv_binary=project / "run.sh")
    with pytest.raises(InputError, match="missing.txt: the lock file does not exist"):
        stage_context(plan, tmp_path / "ctx")


def test_image_record_keeps_the_lock_record(tmp_path):
    (tmp_path / ".samepack").mkdir()
    (tmp_path / ".samepack" / "env.json").write_text(json.dumps({"format": 1, "locker": "uv"}))
    record = ImageRecord(ref="r.local:5000/wine:1.0", digest="sha256:" + "b" * 64,
                         builder="buildah", image_id="sha256:" + "c" * 64, base="python:3.11-slim",
                         pushed=True)
    record_image(tmp_path, record)
    data = json.loads((tmp_path / ".samepack" / "env.json").read_text())
    assert data["locker"] == "uv" and data["image"]["builder"] == "buildah"
    assert read_image(tmp_path) == record
    assert record.pinned() == "r.local:5000/wine@sha256:" + "b" * 64


def test_image_record_creates_env_json_with_a_format_version(tmp_path):
    record = ImageRecord(ref="wine:1.0", digest="sha256:1", builder="docker", image_id="sha256:1",
                         base="python:3.11-slim")
    record_image(tmp_path, record)
    assert json.loads((tmp_path / ".samepack" / "env.json").read_text())["format"] == 1
    assert [p.name for p in (tmp_path / ".samepack").iterdir()] == ["env.json"]


@pytest.mark.parametrize("ref, expected", [
    ("127.0.0.1:5000/ml/wine:1.0", ("127.0.0.1:5000/ml/wine", "1.0")),
    ("127.0.0.1:5000/ml/wine", ("127.0.0.1:5000/ml/wine", "latest")),
    ("wine", ("wine", "latest"))])
def test_split_tag_keeps_the_registry_port(ref, expected):
    from samepack.image.record import split_tag

    assert split_tag(ref) == expected
    record = ImageRecord(ref=ref, digest="sha256:d", builder="docker", image_id="sha256:i",
                         base="b", pushed=True)
    assert record.pinned() == f"{expected[0]}@sha256:d"


def test_push_without_a_registry_tag_is_a_usage_error(samepack, tmp_path):
    result = samepack("build", tmp_path, "--push")
    assert result.exit_code == 2 and "--push needs --tag" in result.stderr


def test_project_without_a_lock_is_an_input_error_naming_the_fix(samepack, tmp_path):
    (tmp_path / "train.py").write_text("print(1)\n")
    result = samepack("build", tmp_path)
    assert result.exit_code == 3
    assert "the project has no lock file" in result.stderr and "samepack package-env" in result.stderr
    assert not (tmp_path / ".samepack").exists()  # nothing written for a project it cannot build


def test_build_of_an_imported_program_finds_its_lock_in_env(tmp_path):
    from samepack.image.project import gather_facts

    (tmp_path / "code").mkdir()
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "requirements.txt").write_text("six==1.17.0 --hash=sha256:00\n")
    assert gather_facts(tmp_path / "code").lock_file == tmp_path / "env" / "requirements.txt"
