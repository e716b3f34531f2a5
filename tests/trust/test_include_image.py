"""``export --include-image``: the program's image (a real one, built by buildah and pushed to
a real registry) travels inside the bundle as an OCI layout and is loaded, byte for byte, into
another registry (the air-gapped site's) on import."""

from __future__ import annotations

import hashlib
import subprocess
import tarfile
from pathlib import Path

import pytest

from support import require_tool


@pytest.fixture
def site_registry(tmp_path: Path):
    from samepack.oci.localregistry import LocalRegistry

    require_tool("docker-registry")
    server = LocalRegistry(tmp_path / "site-registry").start()
    yield server
    server.stop()


def build_image(tmp_path: Path, target: str) -> str:
    """A two-file image FROM scratch, committed with --timestamp 0 and pushed; its digest."""
    buildah = [require_tool("buildah"), "--root", str(tmp_path / "b-root"), "--runroot",
               str(tmp_path / "b-run"), "--storage-driver", "vfs"]

    def run(*args: str) -> str:
        done = subprocess.run(buildah + list(args), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    container = run("from", "scratch")
    (tmp_path / "predict.py").write_text("print('predict')\n")
    run("copy", container, str(tmp_path / "predict.py"), "/app/predict.py")
    run("config", "--cmd", '["/app/predict.py"]', container)
    run("commit", "-q", "--timestamp", "0", container, "samepack-test-image")
    digest_file = tmp_path / "digest"
    run("push", "-q", "--tls-verify=false", "--digestfile", str(digest_file),
        "samepack-test-image", f"docker://{target}")
    run("rm", container)
    return digest_file.read_text().strip()


def test_image_travels_in_the_bundle(wine_project: Path, samepack, registry, site_registry,
                                     tmp_path: Path, monkeypatch) -> None:
    digest = build_image(tmp_path, f"{registry.host}/models/wine:1.0")
    image = f"{registry.host}/models/wine@{digest}"
    program = wine_project / "samepack.yaml"
    program.write_text("\n".join(line for line in program.read_text().splitlines()
                                 if not line.startswith("  image:")) + "\n")
    program.write_text(program.read_text().replace(
        "  lock: requirements.txt\n", f"  lock: requirements.txt\n  image: {image}\n"))
    assert samepack("create", "program", "-f", program).exit_code == 0
    bundle = tmp_path / "with-image.tgz"
    exported = samepack("export", "program", "-n", "wine-quality", "-o", bundle,
                        "--include-image", "--runs", "none")
    assert exported.exit_code == 0, exported.stderr

    with tarfile.open(bundle) as archive:
        names = archive.getnames()
        assert f"env/image/blobs/sha256/{digest[7:]}" in names
        archive.extractall(tmp_path / "unpacked", filter="data")
    layout = tmp_path / "unpacked" / "env" / "image"
    raw = subprocess.run([require_tool("skopeo"), "inspect", "--raw", f"oci:{layout}:image"],
                         capture_output=True, text=True, timeout=60)
    assert raw.returncode == 0, raw.stderr
    assert "sha256:" + hashlib.sha256(raw.stdout.encode()).hexdigest() == digest
    again = tmp_path / "again.tgz"
    assert samepack("export", "program", "-n", "wine-quality", "-o", again, "--include-image",
                    "--runs", "none").exit_code == 0
    assert again.read_bytes() == bundle.read_bytes()

    monkeypatch.setenv("SAMEPACK_HOME", str(tmp_path / "site-home"))
    imported = samepack("import", bundle, "--image-registry", site_registry.host)
    assert imported.exit_code == 0, imported.stderr
    assert f"{site_registry.host}/models/wine@{digest}" in imported.stderr
    loaded = subprocess.run([require_tool("skopeo"), "inspect", "--raw", "--tls-verify=false",
                             f"docker://{site_registry.host}/models/wine@{digest}"],
                            capture_output=True, text=True, timeout=60)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout == raw.stdout


def test_include_image_without_a_registry_image_is_a_one_line_error(wine_project: Path,
                                                                    samepack, tmp_path) -> None:
    program = wine_project / "samepack.yaml"
    program.write_text("\n".join(line for line in program.read_text().splitlines()
                                 if not line.startswith("  image:")) + "\n")
    assert samepack("create", "program", "-f", program).exit_code == 0
    result = samepack("export", "program", "-n", "wine-quality", "-o", tmp_path / "x.tgz",
                      "--include-image")
    assert result.exit_code == 3 and "records no image" in result.stderr
    assert not (tmp_path / "x.tgz").exists()


def test_copy_of_a_multi_platform_image_index(samepack, registry, site_registry,
                                              tmp_path: Path) -> None:
    """An image index (as multi-platform images are) with its manifests, registry -> layout ->
    another registry; skopeo reads both ends."""
    build_image(tmp_path, f"{registry.host}/models/single:1.0")
    buildah = [require_tool("buildah"), "--root", str(tmp_path / "b-root"), "--runroot",
               str(tmp_path / "b-run"), "--storage-driver", "vfs"]
    for args in (["manifest", "create", "multi"],
                 ["manifest", "add", "--tls-verify=false", "multi",
                  f"docker://{registry.host}/models/single:1.0"],
                 ["manifest", "push", "--all", "--tls-verify=false", "multi",
                  f"docker://{registry.host}/models/multi:1.0"]):
        done = subprocess.run(buildah + args, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    folder = tmp_path / "multi-layout"
    assert samepack("copy", f"oci://{registry.host}/models/multi:1.0",
                    f"oci-layout:{folder}:1.0").exit_code == 0
    back = samepack("copy", f"oci-layout:{folder}:1.0",
                    f"oci://{site_registry.host}/models/multi:1.0")
    assert back.exit_code == 0, back.stderr
    skopeo = require_tool("skopeo")
    source = subprocess.run([skopeo, "inspect", "--raw", "--tls-verify=false",
                             f"docker://{registry.host}/models/multi:1.0"],
                            capture_output=True, text=True, timeout=60)
    copied = subprocess.run([skopeo, "inspect", "--raw", "--tls-verify=false",
                             f"docker://{site_registry.host}/models/multi:1.0"],
                            capture_output=True, text=True, timeout=60)
    assert source.returncode == copied.returncode == 0, copied.stderr
    assert '"manifests"' in source.stdout and copied.stdout == source.stdout
    inner = subprocess.run([skopeo, "inspect", "--tls-verify=false",
                            f"docker://{site_registry.host}/models/multi:1.0"],
                           capture_output=True, text=True, timeout=60)
    assert inner.returncode == 0, inner.stderr  # the platform manifest and its blobs are there
