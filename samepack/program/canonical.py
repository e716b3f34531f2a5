"""The canonical serialisations of a Program: JSON (digests) and YAML (the stored file)."""

from __future__ import annotations

import hashlib
import json

from samepack.program.model import Program


def canonical_json(program: Program) -> bytes:
    """Sorted-key, compact JSON of ``Program.to_dict()``: what the digest is computed over."""
    return json.dumps(program.to_dict(), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def program_digest(program: Program) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(program)).hexdigest()


def canonical_yaml(program: Program) -> str:
    """``samepack.yaml`` text: the canonical dict in its fixed key order, block style."""
    import yaml  # only where a program is written; digests need JSON alone

    return yaml.safe_dump(program.to_dict(), sort_keys=False, default_flow_style=False,
                          allow_unicode=True, width=100)
