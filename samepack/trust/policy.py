"""Which keys a user trusts, and whether every bundle must carry a signature by one of them.

The policy file is ``$SAMEPACK_POLICY``, else ``$SAMEPACK_HOME/policy.yaml``::

    signatures:
      required: true          # refuse bundles without a signature by one of the keys
      keys: [team.pub]        # PEM public keys; relative paths are relative to this file

Keys given with ``--key`` are trusted beside the policy's, and make a signature required for
that command.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from typing import TYPE_CHECKING

from samepack.errors import InputError

if TYPE_CHECKING:
    from samepack.trust.keys import PublicKey

POLICY_ENV = "SAMEPACK_POLICY"


@dataclass(frozen=True)
class TrustSettings:
    keys: "list[PublicKey]" = field(default_factory=list)
    required: bool = False
    policy: Path | None = None
    policy_required: bool = False  # the policy file itself requires a signature

    @property
    def active(self) -> bool:
        return bool(self.keys) or self.required


def policy_path() -> Path | None:
    configured = os.environ.get(POLICY_ENV)
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise InputError(f"{POLICY_ENV}={configured}: no such policy file",
                             f"create it or unset {POLICY_ENV}")
        return path
    from samepack.paths import samepack_home

    path = samepack_home() / "policy.yaml"
    return path if path.is_file() else None


def _policy(path: Path) -> "tuple[list[PublicKey], bool]":
    import yaml

    from samepack.trust.keys import load_public_key

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise InputError(f"{path}:{where} is not valid YAML",
                         "see docs/trust.md for the policy format") from None
    signatures = data.get("signatures", {}) if isinstance(data, dict) else None
    if not isinstance(signatures, dict):
        raise InputError(f"{path}: field signatures must be a mapping",
                         "write signatures: {required: true, keys: [KEY.pub]}")
    required = signatures.get("required", False)
    if not isinstance(required, bool):
        raise InputError(f"{path}: field signatures.required must be true or false",
                         "write required: true or required: false")
    names = signatures.get("keys", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InputError(f"{path}: field signatures.keys must be a list of public key files",
                         "write keys: [team.pub]")
    keys = [load_public_key((path.parent / name).expanduser()) for name in names]
    if required and not keys:
        raise InputError(f"{path}: signatures.required is true but signatures.keys lists no "
                         "key", "list the public keys whose signatures you accept")
    return keys, required


def trust_settings(key_files: tuple[Path, ...] | list[Path] = ()) -> TrustSettings:
    """The keys to check with and whether a signature is required: ``--key`` files and the
    policy file together."""
    from samepack.trust.keys import load_public_key

    given = [load_public_key(Path(p)) for p in key_files]
    path = policy_path()
    keys, required = _policy(path) if path else ([], False)
    return TrustSettings(given + keys, required or bool(given), path, required)
