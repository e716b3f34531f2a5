"""Registry credentials, read and written the way Docker does it.

Lookup order: ``SAMEPACK_REGISTRY_USER``/``SAMEPACK_REGISTRY_PASSWORD``, then Docker's config file
(``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``): ``credHelpers[host]``, an
``auths[host]`` entry, then ``credsStore``. Helpers are the standard ``docker-credential-NAME``
programs (``get``/``store`` with JSON on stdin/stdout). The secret never appears in a repr,
message or log line.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from samepack.errors import InputError, RemoteError, ToolMissingError

USER_ENV = "SAMEPACK_REGISTRY_USER"
PASSWORD_ENV = "SAMEPACK_REGISTRY_PASSWORD"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)
    source: str = ""

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, source={self.source!r})"


def docker_config_path() -> Path:
    configured = os.environ.get("DOCKER_CONFIG")
    base = Path(configured).expanduser() if configured else Path.home() / ".docker"
    return base / "config.json"


def load_docker_config(path: Path | None = None) -> dict:
    """The parsed config file, ``{}`` when it does not exist."""
    path = path or docker_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        config = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON (line {error.lineno})",
                         "fix or remove the file, then run `samepack login` again") from None
    if not isinstance(config, dict):
        raise InputError(f"{path}: expected a JSON object", "fix or remove the file")
    return config


def normalise_host(key: str) -> str:
    """``https://host:5000/v1/`` -> ``host:5000`` (Docker's config keys come in both forms)."""
    for prefix in ("https://", "http://"):
        if key.startswith(prefix):
            key = key[len(prefix):]
    return key.split("/", 1)[0].lower()


def lookup_credentials(host: str) -> Credentials | None:
    """Credentials for ``host`` from the environment or Docker's config, or None (anonymous)."""
    user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
    if user and password is not None:
        return Credentials(user, password, f"${USER_ENV}")
    path = docker_config_path()
    config = load_docker_config(path)
    host = normalise_host(host)
    helper = (config.get("credHelpers") or {}).get(host)
    if helper:
        return _helper_get(helper, host)
    entry = _auths_entry(config, host)
    if entry is not None:
        return _decode_entry(entry, path, host)
    if config.get("credsStore"):
        return _helper_get(config["credsStore"], host)
    return None


def _auths_entry(config: dict, host: str) -> dict | None:
    for key, entry in (config.get("auths") or {}).items():
        if normalise_host(key) == host and isinstance(entry, dict):
            return entry
    return None


def _decode_entry(entry: dict, path: Path, host: str) -> Credentials | None:
    if entry.get("username") and entry.get("password") is not None:
        return Credentials(entry["username"], entry["password"], str(path))
    encoded = entry.get("auth")
    if not encoded:
        return None
    try:
        user, sep, password = base64.b64decode(encoded).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        sep = ""
    if not sep:
        raise InputError(f"{path}: auths[{host!r}].auth is not base64 of USER:PASSWORD",
                         f"run `samepack login {host}` again")
    return Credentials(user, password, str(path))


def _helper_program(helper: str) -> str:
    program = shutil.which(f"docker-credential-{helper}")
    if not program:
        raise ToolMissingError(f"{docker_config_path()} names the credential helper {helper!r}, "
                               f"but docker-credential-{helper} is not on PATH",
                               "install the helper or remove it from the config file")
    return program


def _helper_get(helper: str, host: str) -> Credentials | None:
    result = subprocess.run([_helper_program(helper), "get"], input=host, capture_output=True,
                            text=True, timeout=30)
    if result.returncode != 0:
        return None  # "credentials not found": anonymous access, as Docker does
    try:
        answer = json.loads(result.stdout)
        return Credentials(answer["Username"], answer["Secret"], f"docker-credential-{helper}")
    except (ValueError, KeyError, TypeError):
        raise RemoteError(f"docker-credential-{helper} get gave an answer that is not "
                          "{Username, Secret} JSON") from None


def save_credentials(host: str, credentials: Credentials, path: Path | None = None) -> str:
    """Store credentials the way ``docker login`` does; return where they went."""
    path = path or docker_config_path()
    config = load_docker_config(path)
    host = normalise_host(host)
    helper = (config.get("credHelpers") or {}).get(host) or config.get("credsStore")
    if helper:
        _helper_store(helper, host, credentials)
        return f"docker-credential-{helper}"
    auths = config.setdefault("auths", {})
    for key in [k for k in auths if normalise_host(k) == host]:
        del auths[key]
    token = f"{credentials.username}:{credentials.password}".encode("utf-8")
    auths[host] = {"auth": base64.b64encode(token).decode("ascii")}
    write_private_json(path, config)
    return str(path)


def remove_credentials(host: str, path: Path | None = None) -> str | None:
    """Forget the stored credentials for ``host`` the way ``docker logout`` does; where they
    were removed from, or None when none were stored."""
    path = path or docker_config_path()
    config = load_docker_config(path)
    host = normalise_host(host)
    helper = (config.get("credHelpers") or {}).get(host) or config.get("credsStore")
    if helper:
        result = subprocess.run([_helper_program(helper), "erase"], input=host,
                                capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            return None  # nothing stored for the host
        return f"docker-credential-{helper}"
    auths = config.get("auths") or {}
    stored = [key for key in auths if normalise_host(key) == host]
    if not stored:
        return None
    for key in stored:
        del auths[key]
    write_private_json(path, config)
    return str(path)


def _helper_store(helper: str, host: str, credentials: Credentials) -> None:
    payload = json.dumps({"ServerURL": host, "Username": credentials.username,
                          "Secret": credentials.password})
    result = subprocess.run([_helper_program(helper), "store"], input=payload,
                            capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise RemoteError(f"docker-credential-{helper} store failed (exit {result.returncode})")


def write_private_json(path: Path, data: dict) -> None:
    """Write ``data`` atomically with mode 0600 (temp file beside the target, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temp = tempfile.mkstemp(prefix=".config-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent="\t", sort_keys=True) + "\n")
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
