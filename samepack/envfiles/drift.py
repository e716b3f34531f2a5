"""``package-env --check``: does the recorded lock still match the project? The answer is a
list of readable differences (empty = up to date), computed without running a resolver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from samepack.envfiles.envjson import EnvRecord, sha256_file
from samepack.envfiles.inputs import LockInputs
from samepack.lock.index_lines import option_lines
from samepack.lock.indexes import IndexOptions
from samepack.lock.pins import pins_from_requirements
from samepack.scan.names import canonical_name


def drift(root: Path, record: EnvRecord, inputs: LockInputs,
          project_index: dict[str, Any] | None = None) -> list[str]:
    """Differences between the recorded lock and the project as it is now
    (``project_index``: the index options the project calls for now, as env.json keeps them)."""
    return [*_input_changes(record.inputs, inputs),
            *_index_changes(record.index.get("project"), project_index),
            *_file_changes(root, record)]


def _index_changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    """The project's index options (which the lock carries at its top) that changed."""
    before, after = (option_lines(IndexOptions.from_json(v)) for v in (old, new))
    lines = [f"+ index: {line}" for line in after if line not in before]
    return lines + [f"- index: {line}" for line in before if line not in after]


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
    def added(name: str, specs: list[str]) -> str:
        where = ", ".join(evidence.get(name, ())[:3])
        return f"+ {' '.join(specs)}" + (f"  (found at {where})" if where else "")

    return _keyed_diff(
        _by_name(old), _by_name(new), added,
        removed=lambda name, specs: f"- {' '.join(specs)}  (no longer imported or declared)",
        changed=lambda name, a, b: f"~ {name}: {', '.join(a)} -> {', '.join(b)}")


def _keyed_diff(before: dict[str, Any], after: dict[str, Any], added, removed,
                changed) -> list[str]:
    """One line per key that was added, removed or changed, in key order."""
    lines = []
    for key in sorted(set(before) | set(after)):
        if key not in before:
            lines.append(added(key, after[key]))
        elif key not in after:
            lines.append(removed(key, before[key]))
        elif before[key] != after[key]:
            lines.append(changed(key, before[key], after[key]))
    return lines


def _by_name(requirements: list[str]) -> dict[str, list[str]]:
    # packaging's parser (its markers load its wheel tags) only when there is a record to compare
    from packaging.requirements import InvalidRequirement, Requirement

    grouped: dict[str, list[str]] = {}
    for requirement in requirements:
        try:
            name = canonical_name(Requirement(requirement).name)
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
    now = {p.name: p.version for p in pins_from_requirements(text)}
    before = {k[len("pip:"):]: v for k, v in recorded.items() if k.startswith("pip:")}
    return _keyed_diff(before, now,
                       added=lambda name, version: f"    + {name}=={version}",
                       removed=lambda name, version: f"    - {name}=={version}",
                       changed=lambda name, a, b: f"    ~ {name}: {a} -> {b}")


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={v}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)
