"""``samepack copy`` between a real registry and OCI layout folders: byte for byte, with the
signature, SBOM and provenance along; skopeo reads the layout it writes."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from support import require_tool


def _skopeo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([require_tool("skopeo"), *args], capture_output=True, text=True,
                          timeout=120)


def test_registry_to_layout_to_registry(wine_bundle: Path, keys, samepack, registry,
                                        tmp_path: Path) -> None:
    assert samepack("sign", wine_bundle, "--key", keys["me.key"]).exit_code == 0
    source = f"oci://{registry.host}/copy/wine:1.0"
    pushed = samepack("push", wine_bundle, source)
    assert pushed.exit_code == 0, pushed.stderr
    digest = pushed.stdout.strip().splitlines()[-1]

    folder = tmp_path / "airgap"
    copied = samepack("copy", source, f"oci-layout:{folder}:1.0")
    assert copied.exit_code == 0, copied.stderr
    assert copied.stdout.strip() == digest
    assert "3 referrers" in copied.stderr
    raw = _skopeo("inspect", "--raw", f"oci:{folder}:1.0")
    assert raw.returncode == 0, raw.stderr
    assert "sha256:" + hashlib.sha256(raw.stdout.encode()).hexdigest() == digest
    for blob in (folder / "blobs" / "sha256").iterdir():
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
    assert sorted(p.name for p in folder.iterdir()) == ["blobs", "index.json", "oci-layout"]

    target = f"oci://{registry.host}/inside/wine:1.0"
    back = samepack("copy", f"oci-layout:{folder}:1.0", target)
    assert back.exit_code == 0, back.stderr
    out = tmp_path / "inside.tgz"
    pulled = samepack("pull", target, "-o", out, "--key", keys["me.pub"])
    assert pulled.exit_code == 0, pulled.stderr
    assert out.read_bytes() == wine_bundle.read_bytes()


def test_skopeo_copies_the_layout_samepack_wrote(wine_bundle: Path, samepack, registry,
                                                 tmp_path: Path) -> None:
    source = f"oci://{registry.host}/copy/skopeo:1.0"
    assert samepack("push", wine_bundle, source).exit_code == 0
    folder = tmp_path / "layout"
    assert samepack("copy", source, f"oci-layout:{folder}:1.0").exit_code == 0
    done = _skopeo("copy", "--dest-tls-verify=false", f"oci:{folder}:1.0",
                   f"docker://{registry.host}/copy/by-skopeo:1.0")
    assert done.returncode == 0, done.stderr
    out = tmp_path / "by-skopeo.tgz"
    assert samepack("pull", f"oci://{registry.host}/copy/by-skopeo:1.0", "-o", out).exit_code == 0
    assert out.read_bytes() == wine_bundle.read_bytes()


def test_a_damaged_layout_is_refused(wine_bundle: Path, samepack, registry,
                                     tmp_path: Path) -> None:
    source = f"oci://{registry.host}/copy/damaged:1.0"
    assert samepack("push", wine_bundle, source).exit_code == 0
    folder = tmp_path / "layout"
    assert samepack("copy", source, f"oci-layout:{folder}:1.0").exit_code == 0
    index = json.loads((folder / "index.json").read_text())
    manifest_digest = next(m["digest"] for m in index["manifests"]
                           if m.get("annotations", {}).get("org.opencontainers.image.ref.name"))
    manifest = json.loads((folder / "blobs" / "sha256" / manifest_digest[7:]).read_bytes())
    biggest = max(manifest["layers"], key=lambda layer: layer["size"])
    blob = folder / "blobs" / "sha256" / biggest["digest"][7:]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    result = samepack("copy", f"oci-layout:{folder}:1.0", f"oci://{registry.host}/copy/bad:1.0")
    assert result.exit_code == 7, result.stderr
    assert result.stderr.startswith("error: ") and "does not match its digest" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_references_are_one_line_errors(samepack, tmp_path: Path) -> None:
    result = samepack("copy", "docker://x/y:1", f"oci-layout:{tmp_path}/l")
    assert result.exit_code == 3 and "neither oci://" in result.stderr
    result = samepack("copy", f"oci-layout:{tmp_path}/missing:1.0", f"oci-layout:{tmp_path}/b")
    assert result.exit_code == 4 and "no such OCI layout folder" in result.stderr


def test_a_hostile_layout_index_is_refused(wine_bundle: Path, samepack, registry,
                                           tmp_path: Path) -> None:
    """A digest in index.json becomes a file name and a URL path: anything but sha256 hex is
    refused before it is used."""
    source = f"oci://{registry.host}/copy/hostile:1.0"
    assert samepack("push", wine_bundle, source).exit_code == 0
    folder = tmp_path / "layout"
    assert samepack("copy", source, f"oci-layout:{folder}:1.0").exit_code == 0
    index = json.loads((folder / "index.json").read_text())
    index["manifests"][0]["digest"] = "sha256:../../../../etc/passwd"
    (folder / "index.json").write_text(json.dumps(index))
    result = samepack("copy", f"oci-layout:{folder}:1.0", f"oci-layout:{tmp_path}/out:1.0")
    assert result.exit_code == 7, result.stderr
    assert result.stderr.startswith("error: ") and "not sha256" in result.stderr
    assert not (tmp_path / "out").exists()
