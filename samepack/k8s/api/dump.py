"""Manifests as YAML text: one document per object, keys in rendering order, multi-line strings
as literal blocks so a reviewer can read the program inside its ConfigMap."""

from __future__ import annotations

from typing import Any, Iterable

import yaml


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # never emit &anchors / *aliases
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and not any(ch in value for ch in "\t\r") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_manifests(objects: Iterable[dict[str, Any]]) -> str:
    """The objects as a multi-document YAML stream (deterministic)."""
    return yaml.dump_all(list(objects), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=100, explicit_start=True)


def load_manifests(text: str) -> list[dict[str, Any]]:
    """The objects of a YAML stream, empty documents skipped."""
    return [doc for doc in yaml.safe_load_all(text) if doc]
