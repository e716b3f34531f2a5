"""Credentials from Docker's config file, credential helpers (real programs) and the env."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from samepack.errors import InputError
from samepack.oci.credentials import (Credentials, load_docker_config, lookup_credentials,
                                      remove_credentials, save_credentials)


def _write(config_dir: Path, data: dict) -> None:
    (config_dir / "config.json").write_text(json.dumps(data))


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_auths_entry_in_both_key_forms(docker_config: Path) -> None:
    _write(docker_config, {"auths": {"https://reg.example:5000/v1/": {"auth": _auth("u", "p:w")},
                                     "other": {"username": "x", "password": "y"}}})
    found = lookup_credentials("reg.example:5000")
    assert (found.username, found.password) == ("u", "p:w")
    assert lookup_credentials("other").username == "x"
    assert lookup_credentials("unknown.example") is None


def test_env_wins_over_config(docker_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(docker_config, {"auths": {"h": {"auth": _auth("u", "p")}}})
    monkeypatch.setenv("SAMEPACK_REGISTRY_USER", "env-user")
    monkeypatch.setenv("SAMEPACK_REGISTRY_PASSWORD", "env-pass")
    assert lookup_credentials("h").username == "env-user"


def test_password_stays_out_of_repr() -> None:
    assert "hidden-pw" not in repr(Credentials("u", "hidden-pw", "x"))


def test_malformed_config_is_one_line_error(docker_config: Path) -> None:
    (docker_config / "config.json").write_text("{not json")
    with pytest.raises(InputError) as raised:
        load_docker_config()
    assert "config.json" in raised.value.message and "not valid JSON" in raised.value.message


def test_bad_auth_field_named(docker_config: Path) -> None:
    _write(docker_config, {"auths": {"h": {"auth": base64.b64encode(b"nocolon").decode()}}})
    with pytest.raises(InputError, match=r"auths\['h'\]\.auth"):
        lookup_credentials("h")


def test_save_writes_docker_format_mode_0600_and_keeps_other_keys(docker_config: Path) -> None:
    _write(docker_config, {"auths": {"https://h:5000": {"auth": _auth("old", "old")}},
                           "experimental": "enabled"})
    save_credentials("h:5000", Credentials("alice", "pw"))
    path = docker_config / "config.json"
    data = json.loads(path.read_text())
    assert data == {"auths": {"h:5000": {"auth": _auth("alice", "pw")}}, "experimental": "enabled"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in docker_config.iterdir()] == ["config.json"]


def _helper(directory: Path, store: Path) -> None:
    """A real docker-credential-* program: keeps secrets in a JSON file."""
    program = directory / "docker-credential-filestore"
    program.write_text(f"""#!/usr/bin/env python3
import json, sys
store = {str(store)!r}
try:
    data = json.load(open(store))
except FileNotFoundError:
    data = {{}}
if sys.argv[1] == "store":
    entry = json.load(sys.stdin)
    data[entry["ServerURL"]] = [entry["Username"], entry["Secret"]]
    json.dump(data, open(store, "w"))
elif sys.argv[1] == "erase":
    host = sys.stdin.read().strip()
    if host not in data:
        print("credentials not found in native keychain"); sys.exit(1)
    del data[host]
    json.dump(data, open(store, "w"))
elif sys.argv[1] == "get":
    host = sys.stdin.read().strip()
    if host not in data:
        print("credentials not found in native keychain"); sys.exit(1)
    print(json.dumps({{"ServerURL": host, "Username": data[host][0], "Secret": data[host][1]}}))
""")
    program.chmod(0o755)


@pytest.fixture
def filestore(docker_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The helper on PATH and named as Docker's credsStore; the file holding its secrets."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _helper(bin_dir, tmp_path / "secrets.json")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    _write(docker_config, {"credsStore": "filestore"})
    return tmp_path / "secrets.json"


def test_credential_helper_store_and_get(docker_config: Path, filestore: Path) -> None:
    assert lookup_credentials("h:1") is None
    assert save_credentials("h:1", Credentials("bob", "helper-pw")) == "docker-credential-filestore"
    found = lookup_credentials("h:1")
    assert (found.username, found.password) == ("bob", "helper-pw")
    assert "helper-pw" not in (docker_config / "config.json").read_text()
    _write(docker_config, {"credHelpers": {"h:2": "filestore"}, "auths": {"h:2": {}}})
    save_credentials("h:2", Credentials("carol", "pw2"))
    assert lookup_credentials("h:2").username == "carol"


def test_remove_forgets_only_that_host(docker_config: Path) -> None:
    _write(docker_config, {"auths": {"https://h:5000/v1/": {"auth": _auth("a", "b")},
                                     "other:1": {"auth": _auth("c", "d")}},
                           "experimental": "enabled"})
    assert remove_credentials("h:5000") == str(docker_config / "config.json")
    data = json.loads((docker_config / "config.json").read_text())
    assert data == {"auths": {"other:1": {"auth": _auth("c", "d")}}, "experimental": "enabled"}
    assert lookup_credentials("h:5000") is None
    assert remove_credentials("h:5000") is None  # nothing left to remove


def test_remove_through_the_credential_helper(filestore: Path) -> None:
    save_credentials("h:1", Credentials("bob", "helper-pw"))
    assert remove_credentials("h:1") == "docker-credential-filestore"
    assert lookup_credentials("h:1") is None
    assert "helper-pw" not in filestore.read_text()
    assert remove_credentials("h:1") is None
