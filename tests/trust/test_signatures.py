"""Signed bundles: a signature made on a file holds through push, pull, import and re-export;
tampering, a wrong key and a missing signature under a policy are one-line refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from samepack.bundle.format import layout


def one_line_refusal(result, *needles: str, code: int = 7) -> None:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and lines[1].startswith("hint: "), result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_sign_writes_an_envelope_naming_both_digests(wine_bundle: Path, keys, samepack) -> None:
    from samepack.trust.identity import file_sha256

    signed = samepack("sign", wine_bundle, "--key", keys["me.key"])
    assert signed.exit_code == 0, signed.stderr
    sidecar = Path(str(wine_bundle) + ".intoto.json")
    assert signed.stdout.strip() == str(sidecar)
    envelope = json.loads(sidecar.read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    import base64

    statement = json.loads(base64.b64decode(envelope["payload"]))
    raw, _ = layout.read_manifest(wine_bundle)
    import hashlib

    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    assert subjects == {"samepack-bundle.json": hashlib.sha256(raw).hexdigest(),
                        "wine.tgz": file_sha256(wine_bundle)}
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"


def test_signature_survives_push_pull_import_and_re_export(wine_bundle: Path, keys, samepack,
                                                           registry, tmp_path: Path,
                                                           monkeypatch) -> None:
    assert samepack("sign", wine_bundle, "--key", keys["me.key"]).exit_code == 0
    assert samepack("verify", wine_bundle, "--key", keys["me.pub"]).exit_code == 0
    target = f"oci://{registry.host}/trust/wine:1.0"
    pushed = samepack("push", wine_bundle, target)
    assert pushed.exit_code == 0, pushed.stderr
    assert "signature" in pushed.stderr

    pulled = tmp_path / "pulled" / "wine.tgz"
    pulled.parent.mkdir()
    result = samepack("pull", target, "-o", pulled, "--key", keys["me.pub"])
    assert result.exit_code == 0, result.stderr
    assert "signature ok" in result.stderr
    assert pulled.read_bytes() == wine_bundle.read_bytes()
    assert Path(str(pulled) + ".intoto.json").is_file()

    monkeypatch.setenv("SAMEPACK_HOME", str(tmp_path / "other-home"))
    imported = samepack("import", pulled, "--key", keys["me.pub"])
    assert imported.exit_code == 0, imported.stderr
    assert "signature ok" in imported.stderr
    again = tmp_path / "again.tgz"
    exported = samepack("export", "program", "-n", "wine-quality", "-o", again, "--runs", "none")
    assert exported.exit_code == 0, exported.stderr
    assert again.read_bytes() == wine_bundle.read_bytes()
    shutil.copyfile(str(wine_bundle) + ".intoto.json", str(again) + ".intoto.json")
    assert samepack("verify", again, "--key", keys["me.pub"]).exit_code == 0


def test_wrong_key_is_a_one_line_refusal(wine_bundle: Path, keys, samepack) -> None:
    assert samepack("sign", wine_bundle, "--key", keys["me.key"]).exit_code == 0
    result = samepack("verify", wine_bundle, "--key", keys["other.pub"])
    one_line_refusal(result, "not signed by any trusted key", "other.pub")
    result = samepack("import", wine_bundle, "--key", keys["other.pub"])
    one_line_refusal(result, "not signed by any trusted key")


def test_tampered_bundle_is_refused(wine_bundle: Path, keys, samepack, wine_project: Path,
                                    tmp_path: Path) -> None:
    """Changed bytes break the bundle's own digests; a bundle rebuilt around changed code
    (a consistent new manifest) no longer matches what was signed."""
    assert samepack("sign", wine_bundle, "--key", keys["me.key"]).exit_code == 0
    signature = Path(str(wine_bundle) + ".intoto.json")
    damaged = tmp_path / "damaged.tgz"
    data = bytearray(wine_bundle.read_bytes())
    data[-200] ^= 0xFF
    damaged.write_bytes(bytes(data))
    shutil.copyfile(signature, str(damaged) + ".intoto.json")
    result = samepack("verify", damaged, "--key", keys["me.pub"])
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")

    (wine_project / "train.py").write_text((wine_project / "train.py").read_text() + "# evil\n")
    rebuilt = tmp_path / "rebuilt.tgz"
    assert samepack("export", "program", "-n", "wine-quality", "-o", rebuilt,
                    "--runs", "none").exit_code == 0
    result = samepack("verify", rebuilt, "--key", keys["me.pub"], "--signature", signature)
    one_line_refusal(result, "signature is for another bundle")
    result = samepack("import", rebuilt, "--key", keys["me.pub"], "--signature", signature)
    one_line_refusal(result, "signature is for another bundle")


def test_policy_requires_a_signature(wine_bundle: Path, keys, samepack, samepack_home: Path,
                                     registry, tmp_path: Path) -> None:
    shutil.copyfile(keys["me.pub"], samepack_home / "team.pub")
    (samepack_home / "policy.yaml").write_text("signatures:\n  required: true\n"
                                               "  keys: [team.pub]\n")
    result = samepack("verify", wine_bundle)
    one_line_refusal(result, "has no signature", "policy")
    # routes that import without --key (create -f BUNDLE, deploy BUNDLE, reproduce BUNDLE)
    result = samepack("create", "program", "-f", wine_bundle, "--force")
    one_line_refusal(result, "has no signature", "policy")
    target = f"oci://{registry.host}/trust/unsigned:1.0"
    assert samepack("push", wine_bundle, target).exit_code == 0
    result = samepack("pull", target, "-o", tmp_path / "unsigned.tgz")
    one_line_refusal(result, "has no signature")
    assert not (tmp_path / "unsigned.tgz").exists()

    assert samepack("sign", wine_bundle, "--key", keys["me.key"]).exit_code == 0
    accepted = samepack("import", wine_bundle, "--as", "wine-copy:1.0")
    assert accepted.exit_code == 0, accepted.stderr
    assert "signature ok" in accepted.stderr
    signed_target = f"oci://{registry.host}/trust/signed:1.0"
    assert samepack("push", wine_bundle, signed_target).exit_code == 0
    pulled = samepack("pull", signed_target, "-o", tmp_path / "signed.tgz", "--import", "--force")
    assert pulled.exit_code == 0, pulled.stderr
    assert "signature ok" in pulled.stderr and "imported wine-quality:1.0" in pulled.stderr


def test_bad_policy_and_bad_signature_file(wine_bundle: Path, keys, samepack,
                                           samepack_home: Path) -> None:
    (samepack_home / "policy.yaml").write_text("signatures:\n  required: yes-please\n")
    one_line_refusal(samepack("verify", wine_bundle), "signatures.required", code=3)
    (samepack_home / "policy.yaml").unlink()
    Path(str(wine_bundle) + ".intoto.json").write_text('{"payload": 3}')
    one_line_refusal(samepack("verify", wine_bundle, "--key", keys["me.pub"]), "DSSE envelope")
    one_line_refusal(samepack("sign", wine_bundle, "--key", keys["me.pub"]), "private key",
                     code=3)


def test_sign_in_the_registry_and_verify_on_pull(wine_bundle: Path, keys, samepack, registry,
                                                 tmp_path: Path) -> None:
    """An artifact pushed unsigned is signed where it lies; the envelope is a referrer (by the
    fallback tag, this registry has no referrers API), and pull checks and keeps it."""
    target = f"oci://{registry.host}/trust/remote:1.0"
    assert samepack("push", wine_bundle, target).exit_code == 0
    assert "not signed" in samepack("verify", target).stdout
    signed = samepack("sign", target, "--key", keys["other.key"])
    assert signed.exit_code == 0, signed.stderr
    remote = samepack("verify", target, "--key", keys["other.pub"])
    assert remote.exit_code == 0 and "signature ok" in remote.stdout, remote.stderr
    one_line_refusal(samepack("verify", target, "--key", keys["me.pub"]),
                     "not signed by any trusted key")
    out = tmp_path / "remote.tgz"
    result = samepack("pull", target, "-o", out, "--key", keys["other.pub"])
    assert result.exit_code == 0, result.stderr
    assert samepack("verify", out, "--key", keys["other.pub"]).exit_code == 0
    one_line_refusal(samepack("pull", target, "-o", tmp_path / "x.tgz", "--key", keys["me.pub"]),
                     "not signed by any trusted key")


def test_encrypted_key_needs_its_password(wine_bundle: Path, tmp_path: Path, samepack,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMEPACK_KEY_PASSWORD", "correct horse")
    assert samepack("keygen", tmp_path / "locked").exit_code == 0
    assert b"ENCRYPTED" in (tmp_path / "locked.key").read_bytes()
    assert (tmp_path / "locked.key").stat().st_mode & 0o777 == 0o600
    assert samepack("sign", wine_bundle, "--key", tmp_path / "locked.key").exit_code == 0
    monkeypatch.setenv("SAMEPACK_KEY_PASSWORD", "wrong")
    result = samepack("sign", wine_bundle, "--key", tmp_path / "locked.key")
    one_line_refusal(result, "does not open this key", code=3)
    assert "correct horse" not in result.stderr and "wrong" not in result.stderr.split("hint")[0]


def test_policy_with_keys_but_not_required(wine_bundle: Path, keys, samepack,
                                           samepack_home: Path) -> None:
    """Keys without `required`: unsigned bundles pass, signed ones must be signed by a key."""
    (samepack_home / "policy.yaml").write_text(f"signatures:\n  keys: [{keys['me.pub']}]\n")
    assert samepack("verify", wine_bundle).exit_code == 0
    assert samepack("sign", wine_bundle, "--key", keys["other.key"]).exit_code == 0
    one_line_refusal(samepack("verify", wine_bundle), "not signed by any trusted key")


def test_keys_made_by_openssl(wine_bundle: Path, samepack, tmp_path: Path) -> None:
    """Keys need not come from samepack: PKCS#8 Ed25519 and SEC1 P-256 keys made by openssl."""
    import subprocess

    from support import require_tool

    openssl = require_tool("openssl")
    for name, make in (("ed", ["genpkey", "-algorithm", "ed25519"]),
                       ("ec", ["ecparam", "-name", "prime256v1", "-genkey", "-noout"])):
        private, public = tmp_path / f"{name}.pem", tmp_path / f"{name}.pub"
        subprocess.run([openssl, *make, "-out", str(private)], check=True, capture_output=True)
        subprocess.run([openssl, "pkey", "-in", str(private), "-pubout", "-out", str(public)],
                       check=True, capture_output=True)
        signed = samepack("sign", wine_bundle, "--key", private)
        assert signed.exit_code == 0, signed.stderr
        checked = samepack("verify", wine_bundle, "--key", public)
        assert checked.exit_code == 0, checked.stderr
    rsa = tmp_path / "rsa.pem"
    subprocess.run([openssl, "genpkey", "-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", str(rsa)], check=True, capture_output=True)
    one_line_refusal(samepack("sign", wine_bundle, "--key", rsa), "unsupported key type", code=3)


def test_a_file_signature_holds_for_the_extracted_directory(wine_bundle: Path, keys, samepack,
                                                            tmp_path: Path) -> None:
    import tarfile

    assert samepack("sign", wine_bundle, "--key", keys["me.key"]).exit_code == 0
    folder = tmp_path / "extracted"
    with tarfile.open(wine_bundle) as archive:
        archive.extractall(folder, filter="data")
    signature = str(wine_bundle) + ".intoto.json"
    checked = samepack("verify", folder, "--key", keys["me.pub"], "--signature", signature)
    assert checked.exit_code == 0, checked.stderr
    assert "signature ok" in checked.stderr
    imported = samepack("import", folder, "--as", "wine-dir:1.0", "--key", keys["me.pub"],
                        "--signature", signature)
    assert imported.exit_code == 0, imported.stderr
