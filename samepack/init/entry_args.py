"""Arguments given with an entry (``--entry "train.py --epochs 3 --multirun"``).

An argument that sets one of the parameters read from the script becomes that parameter's
default (``--epochs 3`` -> ``epochs: 3``; a switch spelling such as ``--no-cache`` picks that
spelling; bare words fill the positionals in order). Everything else is kept, as written, in the
step's command after the script (``--multirun``, Hydra overrides such as ``db=mysql``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from samepack.init.params import CliParam
from samepack.program.values import coerce


@dataclass
class AppliedArgs:
    """What the arguments did: the words kept in the command, and each default they set."""

    literal: list[str] = field(default_factory=list)
    defaults: list[tuple[str, object]] = field(default_factory=list)  # (parameter, value)


def _set(param: CliParam, text: str, applied: AppliedArgs) -> bool:
    try:
        value = coerce(text, param.type) if param.type != "path" else text
    except ValueError:
        return False
    if param.choices and value not in param.choices:
        return False
    param.default = value
    param.required = False
    applied.defaults.append((param.name, value))
    return True


def apply_entry_args(params: list[CliParam], args: list[str]) -> AppliedArgs:
    """Apply ``args`` to ``params`` (their defaults change in place); see the module docstring."""
    options = {p.flag: p for p in params if p.kind == "option" and p.flag}
    switches = {choice: p for p in params if p.kind == "switch" for choice in p.choices or []}
    positionals = [p for p in params if p.kind == "positional"]
    applied = AppliedArgs()
    index = 0
    while index < len(args):
        word = args[index]
        flag, has_value, value = word.partition("=")
        if word in switches and _set(switches[word], word, applied):
            index += 1
            continue
        if flag in options and (has_value or index + 1 < len(args)):
            words = [word] if has_value else args[index:index + 2]
            if _set(options[flag], value if has_value else words[1], applied):
                index += len(words)
                continue
            applied.literal += words  # not a value of the parameter's type: kept as written
            index += len(words)
            continue
        if not word.startswith("-") and "=" not in word and positionals and \
                _set(positionals[0], word, applied):
            positionals.pop(0)
            index += 1
            continue
        applied.literal.append(word)
        index += 1
    return applied
