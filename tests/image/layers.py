"""The paths every layer of a built image holds, read from the layers themselves (not from a
container's merged filesystem, where a file an upper layer deletes is hidden, though the image
still carries it in the layer below)."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path, PurePosixPath

# What only the install needs: the uv binary, the context's support folder, wheels.
BUILD_INPUT_DIR = "tmp/samepack"


def _names(layer: tarfile.TarFile) -> list[str]:
    return [PurePosixPath(member.name.removeprefix("./")).as_posix() for member in layer]


def _above(layers: list[list[str]], diff_ids: list[str], base_diff_ids: list[str]) -> list[list[str]]:
    assert diff_ids[:len(base_diff_ids)] == base_diff_ids, "the image is not built on that base"
    return layers[len(base_diff_ids):]


def _buildah_diff_ids(full_env: dict, ref: str) -> list[str]:
    inspected = subprocess.run(["buildah", "inspect", "--type", "image", ref], env=full_env,
                               check=True, capture_output=True, text=True).stdout
    return json.loads(inspected)["OCIv1"]["rootfs"]["diff_ids"]


def buildah_layer_paths(buildah_env: dict, ref: str, base: str, where: Path) -> list[list[str]]:
    """Each layer's paths, lowest first, of a buildah image (pushed to the OCI layout
    ``where``), without the layers of its ``base`` image."""
    full = {**os.environ, **buildah_env}
    subprocess.run(["buildah", "push", "-q", ref, f"oci:{where}:layers"], env=full, check=True,
                   capture_output=True)
    blobs = where / "blobs" / "sha256"

    def blob(digest: str) -> Path:
        return blobs / digest.split(":", 1)[1]

    index = json.loads((where / "index.json").read_text())
    manifest = json.loads(blob(index["manifests"][0]["digest"]).read_text())
    layers = []
    for layer in manifest["layers"]:
        with tarfile.open(blob(layer["digest"]), mode="r:*") as archive:
            layers.append(_names(archive))
    return _above(layers, _buildah_diff_ids(full, ref), _buildah_diff_ids(full, base))


def docker_layer_paths(client, ref: str, base: str, where: Path) -> list[list[str]]:
    """Each layer's paths, lowest first, of an image in a Docker engine (``docker save``),
    without the layers of its ``base`` image."""
    archive_path = where / "image.tar"
    with archive_path.open("wb") as out:
        for chunk in client.images.get(ref).save(named=False):
            out.write(chunk)
    layers = []
    with tarfile.open(archive_path) as saved:
        manifest = json.load(saved.extractfile("manifest.json"))
        for name in manifest[0]["Layers"]:
            with tarfile.open(fileobj=saved.extractfile(name)) as archive:
                layers.append(_names(archive))

    def diff_ids(name: str) -> list[str]:
        return client.images.get(name).attrs["RootFS"]["Layers"]

    return _above(layers, diff_ids(ref), diff_ids(base))


def build_inputs_in(layers: list[list[str]]) -> list[str]:
    """The paths in ``layers`` that only the install needed: the support folder (or a whiteout
    of it, which means a lower layer holds it), a file named ``uv``, a wheel."""
    found = []
    for paths in layers:
        for path in paths:
            name = PurePosixPath(path).name
            if (path == BUILD_INPUT_DIR or path.startswith(f"{BUILD_INPUT_DIR}/")
                    or path == "tmp/.wh.samepack" or name == "uv" or name.endswith(".whl")):
                found.append(path)
    return found
