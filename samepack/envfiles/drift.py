"""``package-env --check``: does the recorded lock still match the project? The answer is a
list of readable differences (empty = up to date), computed without running a resolver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from samepack.envfiles.envjson import EnvRecord, sha256_file
from samepack.envfiles.inputs import LockInputs
from samepack.lock.pins import pins_from_requirements


def drift(root: Path, record: EnvRecord, inputs: LockInputs) -> list[str]:
    """Differences between the recorded lock and the project as it is now."""
    return [*_input_changes(record.inputs, inputs), *_file_changes(root, record)]


def _input_changes(old: dict[str, Any], inputs: LockInputs) -> list[str]:
    new = inputs.canonical()
    evidence = {r.name: r.evidence for r in inputs.requirements}
    lines = _requirement_changes(old.get("requirements", []), new["requirements"], evidence)
    for key in ("python", "platforms", "hardware"):
        if old.get(key) != new.get(key):
            lines.append(f"~ {key}: {_show(old.get(key))} -> {_show(new.get(key))}")
    old_conda, new_conda = old.get("conda") or {}, new.get("conda") or {}
    for key in ("channels", "dependencies", "pip"):
        before, after = old_conda.get(key, []), new_conda.get(key, [])
        lines += [f"+ conda {key}: {item}" for item in after if item not in before]
        lines += [f"- conda {key}: {item}" for item in before if item not in after]
    if old.get("format") != new.get("format"):
        lines.append(f"~ inputs format: {old.get('format')} -> {new.get('format')}")
    return lines


def _requirement_changes(old: list[str], new: list[str],
                         evidence: dict[str, tuple[str, ...]]) -> list[str]:
    before, after = _by_name(old), _by_name(new)
    lines = []
    for name in sorted(set(before) | set(after)):
        if name not in before:
            where = ", ".join(evidence.get(name, ())[:3])
            lines.append(f"+ {' '.join(after[name])}" + (f"  (found at {where})" if where else ""))
        elif name not in after:
            lines.append(f"- {' '.join(before[name])}  (no longer imported or declared)")
        elif before[name] != after[name]:
            lines.append(f"~ {name}: {', '.join(before[name])} -> {', '.join(after[name])}")
    return lines


def _by_name(requirements: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for requirement in requirements:
        try:
            name = canonicalize_name(Requirement(requirement).name)
        except InvalidRequirement:
            name = requirement
        grouped.setdefault(name, []).append(requirement)
    return {name: sorted(specs) for name, specs in grouped.items()}


def _file_changes(root: Path, record: EnvRecord) -> list[str]:
    lines = []
    for name, digest in sorted(record.files.items()):
        path = root / name
        if not path.is_file():
            lines.append(f"- {name}: missing (it was written by the last lock)")
        elif sha256_file(path) != digest:
            lines.append(f"~ {name}: edited since it was locked")
            if name == "requirements.txt":
                lines += _pin_changes(record.pins, path.read_text(encoding="utf-8"))
    return lines


def _pin_changes(recorded: dict[str, str], text: str) -> list[str]:
    now = {f"pip:{p.name}": p.version for p in pins_from_requirements(text)}
    before = {k: v for k, v in recorded.items() if k.startswith("pip:")}
    lines = []
    for key in sorted(set(before) | set(now)):
        name = key.split(":", 1)[1]
        if key not in now:
            lines.append(f"    - {name}=={before[key]}")
        elif key not in before:
            lines.append(f"    + {name}=={now[key]}")
        elif before[key] != now[key]:
            lines.append(f"    ~ {name}: {before[key]} -> {now[key]}")
    return lines


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={v}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)
