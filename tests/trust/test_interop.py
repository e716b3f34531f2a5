"""What samepack writes, read by the formats' own libraries: the DSSE envelope verified by
securesystemslib (in-toto's crypto library), the Statement and SLSA provenance parsed strictly
by in-toto-attestation, the SBOM validated by cyclonedx-python-lib's JSON schema validator."""

from __future__ import annotations

import base64
import hashlib
import json
import tarfile
from pathlib import Path

import pytest

from trust.helpers import IMAGE, LOCKS, git
from support import require_module


def _sslib_key(public: Path):
    from cryptography.hazmat.primitives import serialization
    from securesystemslib.signer import SSlibKey

    from samepack.trust.keys import load_public_key

    ours = load_public_key(public)
    crypto = serialization.load_pem_public_key(public.read_bytes())
    return SSlibKey.from_crypto(crypto, keyid=ours.keyid)


@pytest.mark.parametrize("name", ["me", "other"])  # Ed25519 and ECDSA P-256
def test_envelope_verifies_with_securesystemslib(wine_bundle: Path, keys, samepack,
                                                 name: str) -> None:
    require_module("securesystemslib")
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import VerificationError

    assert samepack("sign", wine_bundle, "--key", keys[f"{name}.key"]).exit_code == 0
    text = Path(str(wine_bundle) + ".intoto.json").read_text()
    envelope = Envelope.from_dict(json.loads(text))  # from_dict changes the dict it reads
    key = _sslib_key(keys[f"{name}.pub"])
    assert list(envelope.verify([key], 1)) == [key.keyid]

    tampered = Envelope.from_dict(json.loads(text))
    tampered.payload = envelope.payload.replace(b"wine.tgz", b"evil.tgz")
    with pytest.raises(VerificationError):
        tampered.verify([key], 1)
    wrong = _sslib_key(keys["other.pub" if name == "me" else "me.pub"])
    with pytest.raises(VerificationError):
        Envelope.from_dict(json.loads(text)).verify([wrong], 1)


def test_signatures_of_two_keys_share_one_envelope(wine_bundle: Path, keys, samepack) -> None:
    from securesystemslib.dsse import Envelope

    for name in ("me", "other"):
        assert samepack("sign", wine_bundle, "--key", keys[f"{name}.key"]).exit_code == 0
    envelope = Envelope.from_dict(json.loads(Path(str(wine_bundle) + ".intoto.json").read_text()))
    both = [_sslib_key(keys["me.pub"]), _sslib_key(keys["other.pub"])]
    assert len(envelope.verify(both, 2)) == 2


def _members(bundle: Path) -> dict[str, bytes]:
    with tarfile.open(bundle) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive if m.isfile()}


def test_statement_and_provenance_parse_strictly(wine_bundle: Path, wine_project: Path,
                                                 keys, samepack) -> None:
    require_module("in_toto_attestation")
    from google.protobuf import json_format
    from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.statement import Statement

    members = _members(wine_bundle)
    raw = members["metadata/provenance.intoto.json"]
    statement = Statement.copy_from_pb(json_format.Parse(raw, statement_pb2.Statement()))
    statement.validate()
    data = json.loads(raw)
    provenance = json_format.ParseDict(data["predicate"], provenance_pb2.Provenance())
    assert provenance.run_details.builder.version["samepack"]
    dependencies = {d.name: d for d in provenance.build_definition.resolved_dependencies}
    assert dependencies["source"].digest["gitCommit"] == git(wine_project, "rev-parse", "HEAD")
    assert dependencies["env/requirements.txt"].digest["sha256"] == \
        hashlib.sha256(members["env/requirements.txt"]).hexdigest()
    assert dependencies["env/pylock.toml"].digest["sha256"] == \
        hashlib.sha256((LOCKS / "pylock.toml").read_bytes()).hexdigest()
    assert dependencies["image"].digest["sha256"] == IMAGE.rsplit(":", 1)[1]
    subjects = {s["name"]: s["digest"]["sha256"] for s in data["subject"]}
    assert subjects["program/samepack.yaml"] == \
        hashlib.sha256(members["program/samepack.yaml"]).hexdigest()

    assert samepack("sign", wine_bundle, "--key", keys["me.key"]).exit_code == 0
    envelope = json.loads(Path(str(wine_bundle) + ".intoto.json").read_text())
    signed = json_format.Parse(base64.b64decode(envelope["payload"]), statement_pb2.Statement())
    Statement.copy_from_pb(signed).validate()
    assert json_format.MessageToDict(signed.predicate) == data["predicate"]


def test_sbom_validates_and_lists_the_locked_packages(wine_bundle: Path) -> None:
    require_module("cyclonedx")
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    sbom = _members(wine_bundle)["metadata/sbom.cdx.json"]
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(sbom.decode())
    assert error is None, error
    components = {c["purl"]: c for c in json.loads(sbom)["components"]}
    assert set(components) == {"pkg:pypi/numpy@1.24.3", "pkg:pypi/rpycocotools-stubs@0.0.4",
                               "pkg:pypi/typing-extensions@4.5.0", "pkg:pypi/attrs@25.1.0",
                               "pkg:pypi/cattrs@24.1.2", "pkg:pypi/numpy@2.2.3"}
    numpy = [h["content"] for h in components["pkg:pypi/numpy@1.24.3"]["hashes"]]
    assert len(numpy) == 28 and "f21c442fdd2805e91799fbe044a7b999b8571bb0ab0f7850d0cb9641a687092b" in numpy
    assert [h["content"] for h in components["pkg:pypi/attrs@25.1.0"]["hashes"]] == \
        ["c75a69e28a550a7e93789579c22aa26b0f5b83b75dc4e08fe092980051e1090a"]


def test_exports_with_attestations_stay_byte_identical(wine_bundle: Path, samepack,
                                                        tmp_path: Path) -> None:
    again = tmp_path / "again.tgz"
    assert samepack("export", "program", "-n", "wine-quality", "-o", again,
                    "--runs", "none").exit_code == 0
    assert again.read_bytes() == wine_bundle.read_bytes()


def test_pushed_artifact_carries_sbom_and_provenance(wine_bundle: Path, samepack,
                                                     registry) -> None:
    from samepack.oci.pull import fetch_remote
    from samepack.oci.reference import parse_reference
    from samepack.oci.referrers import list_referrers, referrer_payload
    from samepack.oci.registry import Registry

    target = f"oci://{registry.host}/trust/attested:1.0"
    assert samepack("push", wine_bundle, target).exit_code == 0
    ref = parse_reference(target)
    remote_registry = Registry.open(ref.host)
    remote = fetch_remote(remote_registry, ref)
    found = {r.artifact_type: referrer_payload(remote_registry, ref.repository, r)
             for r in list_referrers(remote_registry, ref.repository, remote.artifact.digest)}
    members = _members(wine_bundle)
    assert found == {"application/vnd.in-toto+json": members["metadata/provenance.intoto.json"],
                     "application/vnd.cyclonedx+json": members["metadata/sbom.cdx.json"]}


def test_sbom_of_a_conda_lock_validates(tmp_path: Path) -> None:
    """conda-lock's own fixture: conda and pip packages of two platforms become one component
    per package with the SHA-256 of each platform's file."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from samepack.trust.sbom import lock_components, render_sbom

    text = (LOCKS / "conda-lock.yml").read_text()
    components = lock_components({"env/conda-lock.yml": text})
    sbom = render_sbom("demo", "1", "0.1.0", "2024-01-02T03:04:05Z", components)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(sbom.decode()) is None
    found = {c.purl: c for c in components}
    assert len(found["pkg:conda/python@3.12.0"].hashes) == 2
    assert found["pkg:pypi/requests@2.31.0"].hashes == \
        ("58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f",)
    assert len(found["pkg:pypi/charset-normalizer@3.3.2"].hashes) == 2
    assert "pkg:conda/ld_impl_linux-aarch64@2.40" in found
    assert json.loads(sbom)["metadata"]["timestamp"] == "2024-01-02T03:04:05Z"


def test_inspect_lists_what_is_stored_beside_the_artifact(wine_bundle: Path, keys, samepack,
                                                          registry) -> None:
    assert samepack("sign", wine_bundle, "--key", keys["me.key"]).exit_code == 0
    target = f"oci://{registry.host}/trust/inspected:1.0"
    assert samepack("push", wine_bundle, target).exit_code == 0
    shown = samepack("inspect", target, "--json")
    assert shown.exit_code == 0, shown.stderr
    kinds = sorted(r["artifactType"] for r in json.loads(shown.stdout)["referrers"])
    assert kinds == ["application/vnd.cyclonedx+json", "application/vnd.dsse.envelope.v1+json",
                     "application/vnd.in-toto+json"]
    assert "referrers (signatures, SBOM, provenance)" in samepack("inspect", target).stdout


def test_a_conda_lock_alias_bomb_in_a_bundle_is_refused_before_it_expands() -> None:
    """The SBOM is made from the bundle's conda-lock.yml, which comes from outside."""
    from samepack.errors import InputError
    from samepack.trust.sbom import from_conda_lock

    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))
    with pytest.raises(InputError, match="conda-lock.yml:.*expands to more"):
        from_conda_lock(bomb + "package: []\n")
    assert [c.name for c in from_conda_lock(
        "package:\n- {name: numpy, version: 1.26.4, manager: pip}\n")] == ["numpy"]


def test_the_sbom_describes_samepacks_lock_not_the_users_file_beside_it() -> None:
    """Where the lock went beside a user's file (requirements.lock beside a hand-written
    requirements.txt, conda-lock.samepack.yml beside conda-lock's own), the SBOM reads the lock."""
    from samepack.trust.exported import lock_paths

    paths = ["env/requirements.txt", "env/requirements.lock", "env/conda-lock.yml",
             "env/conda-lock.samepack.yml", "env/pylock.toml", "env/.samepack/env.json"]
    assert lock_paths(paths) == ["env/requirements.lock", "env/conda-lock.samepack.yml",
                                 "env/pylock.toml"]
    assert lock_paths(["env/requirements.txt", "env/conda-lock.yml"]) == [
        "env/requirements.txt", "env/conda-lock.yml"]
