"""Several entries as one pipeline (``init --entry prepare.py --entry train.py``).

Each entry's steps keep their order; the first step of each entry needs the last step of the
entry before it. Step names are made unique (``train``, ``train-2``). A parameter two entries
declare alike is shared (one ``--data-dir`` feeds both); one declared differently is renamed
for the later entry (``train_seed``) in that entry's run lines -- a notebook's parameters are
injected by name, so a notebook's clash is reported and the first declaration kept.
"""

from __future__ import annotations

import re
from dataclasses import replace

from samepack.init.part import EntryPart, Reason
from samepack.program.model import Parameter, Step


def _unique(name: str, taken: set[str]) -> str:
    candidate, counter = name, 2
    while candidate in taken:
        candidate, counter = f"{name}-{counter}", counter + 1
    return candidate


def _same(a: Parameter, b: Parameter) -> bool:
    return (a.type, a.default, a.choices, a.optional) == (b.type, b.default, b.choices, b.optional)


def _rename_param(steps: dict[str, Step], old: str, new: str) -> None:
    placeholder = re.compile(r"\{params\." + re.escape(old) + r"\}")
    for step in steps.values():
        step.run = placeholder.sub("{params.%s}" % new, step.run)
        step.env = {key: placeholder.sub("{params.%s}" % new, value)
                    for key, value in step.env.items()}


def _renamed_steps(part: EntryPart, taken: set[str]) -> dict[str, Step]:
    """The part's steps under names not in ``taken``, their ``needs`` and the part's reasons
    following."""
    names: dict[str, str] = {}
    for old in part.steps:
        names[old] = _unique(old, taken)
        taken.add(names[old])
    for reason in part.reasons:
        for old, new in names.items():
            if old != new:
                reason.what = re.sub(rf"^(step |steps\.){re.escape(old)}\b", rf"\g<1>{new}",
                                     reason.what)
    return {names[old]: replace(step, name=names[old], needs=[names.get(n, n) for n in step.needs])
            for old, step in part.steps.items()}


def chain_parts(parts: list[EntryPart]) -> EntryPart:
    """One part whose steps run the given parts in order (see the module docstring)."""
    if len(parts) == 1:
        return parts[0]
    chained = EntryPart(steps={}, parameters={})
    previous: str | None = None
    for part in parts:
        steps = _renamed_steps(part, set(chained.steps))
        first, last = next(iter(steps)), list(steps)[-1]
        chained.reasons += part.reasons
        if previous is not None:
            steps[first].needs = [previous, *steps[first].needs]
            chained.reasons.append(Reason(f"steps.{first}.needs", previous,
                                          "entry order: each entry runs after the one before it"))
        notebook = any(step.notebook for step in steps.values())
        for name, param in part.parameters.items():
            known = chained.parameters.get(name)
            if known is None or _same(known, param):
                chained.parameters.setdefault(name, param)
            elif notebook:
                chained.warnings.append(f"parameter '{name}' is declared differently by "
                                        f"{first} (a notebook); the first declaration is used")
            else:
                new = _unique_param(f"{_identifier(first)}_{name}", chained.parameters)
                _rename_param(steps, name, new)
                chained.parameters[new] = replace(param, name=new)
                chained.reasons.append(Reason(f"parameter {new}", f"{param.type} = "
                                              f"{param.default!r}", f"{first}'s '{name}' differs "
                                              "from an earlier entry's; renamed"))
        chained.steps.update(steps)
        chained.code += part.code
        chained.data_paths += part.data_paths
        chained.environment = chained.environment if chained.environment.to_dict() \
            else part.environment
        chained.description = chained.description or part.description
        chained.name = chained.name or part.name
        chained.warnings += part.warnings
        previous = last
    return chained


def _identifier(step: str) -> str:
    """A step name as the start of a parameter name: ``01-train`` -> ``step_01_train``."""
    text = re.sub(r"\W", "_", step)
    return text if text[:1].isalpha() else f"step_{text}"


def _unique_param(name: str, taken: dict[str, Parameter]) -> str:
    candidate, counter = name, 2
    while candidate in taken:
        candidate, counter = f"{name}_{counter}", counter + 1
    return candidate
