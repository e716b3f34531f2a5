"""A bundle exported after `samepack build` points its Kubernetes objects at the built image."""

from __future__ import annotations

from pathlib import Path

import yaml

from samepack.image.record import ImageRecord, record_image
from tests.bundle.conftest import entries, register

DIGEST = "sha256:" + "ab" * 32


def _images(bundle: Path) -> set[str]:
    found = set()
    for name, content in entries(bundle).items():
        if name.startswith("infra/") and name.endswith((".yaml", ".yml")):
            for document in yaml.safe_load_all(content):
                for container in _containers(document or {}):
                    found.add(container["image"])
    return found


def _containers(obj):
    if isinstance(obj, dict):
        if "containers" in obj and isinstance(obj["containers"], list):
            yield from obj["containers"]
        for value in obj.values():
            yield from _containers(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _containers(value)


def test_pushed_image_is_referenced_by_digest(mini_project: Path, tmp_path: Path, samepack) -> None:
    record_image(mini_project, ImageRecord(ref="127.0.0.1:5000/mini:0.1", digest=DIGEST,
                                           builder="buildah", image_id=DIGEST,
                                           base="python:3.11-slim", pushed=True))
    register(mini_project)
    out = tmp_path / "mini.tgz"
    result = samepack("export", "program", "-n", "mini", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert _images(out) == {f"127.0.0.1:5000/mini@{DIGEST}"}
