"""An independent client (skopeo) reads, copies and round-trips samepack artifacts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from support import require_tool

from samepack.oci.pull import pull_bundle
from samepack.oci.push import push_bundle
from samepack.oci.reference import parse_reference


def _skopeo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([require_tool("skopeo"), *args], capture_output=True, text=True,
                          timeout=120, check=True)


def test_skopeo_reads_and_copies_the_artifact(registry, bundle_factory, tmp_path: Path) -> None:
    bundle = bundle_factory()
    pushed = push_bundle(bundle, parse_reference(f"oci://{registry.host}/interop/demo"))
    raw = _skopeo("inspect", "--raw", "--tls-verify=false",
                  f"docker://{registry.host}/interop/demo:1.0").stdout
    manifest = json.loads(raw)
    assert manifest["artifactType"] == "application/vnd.samepack.bundle.v1"
    assert [layer["annotations"]["org.opencontainers.image.title"]
            for layer in manifest["layers"]] == ["program", "code", "data"]

    # registry -> OCI layout directory -> another repository, all by skopeo
    layout = tmp_path / "layout"
    _skopeo("copy", "--src-tls-verify=false", f"docker://{registry.host}/interop/demo:1.0",
            f"oci:{layout}:1.0")
    index = json.loads((layout / "index.json").read_text())
    assert index["manifests"][0]["digest"] == pushed.digest
    _skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:1.0",
            f"docker://{registry.host}/interop/copy:1.0")

    copy = pull_bundle(parse_reference(f"oci://{registry.host}/interop/copy:1.0"),
                       tmp_path / "copy.tgz")
    assert copy.remote.artifact.digest == pushed.digest
    assert copy.path.read_bytes() == bundle.read_bytes()
