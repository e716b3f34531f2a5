"""Typed parameter values and ``{params.X}`` placeholders: shared by validation and the runner."""

from __future__ import annotations

import re
from typing import Any

PLACEHOLDER = re.compile(r"\{(params|datasets|env)\.([A-Za-z_][A-Za-z0-9_]*)\}")
TRUE_WORDS = {"true", "yes", "1", "on"}
FALSE_WORDS = {"false", "no", "0", "off"}


def coerce(value: Any, type_name: str) -> Any:
    """``value`` (from YAML or the command line) as ``type_name``; ValueError says why not."""
    if type_name == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in TRUE_WORDS | FALSE_WORDS:
            return value.lower() in TRUE_WORDS
        raise ValueError(f"expected a bool (true/false), got {value!r}")
    if type_name == "int":
        if isinstance(value, bool) or isinstance(value, float):
            raise ValueError(f"expected an int, got {value!r}")
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValueError(f"expected an int, got {value!r}") from None
    if type_name == "float":
        if isinstance(value, bool):
            raise ValueError(f"expected a float, got {value!r}")
        try:
            return float(str(value).strip())
        except ValueError:
            raise ValueError(f"expected a float, got {value!r}") from None
    if isinstance(value, (dict, list)):
        raise ValueError(f"expected a {type_name}, got a {type(value).__name__}")
    return str(value)


def infer_type(value: Any) -> str:
    """The parameter type a default value implies."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str"


def as_text(value: Any) -> str:
    """How a value appears in a command line or environment variable."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def placeholders(text: str) -> list[tuple[str, str]]:
    """The ``(kind, name)`` of each placeholder in ``text``."""
    return [(match.group(1), match.group(2)) for match in PLACEHOLDER.finditer(text)]


def substitute(text: str, values: dict[str, dict[str, Any]]) -> str:
    """Replace ``{params.X}``/``{datasets.X}``/``{env.X}`` using ``values[kind][name]``."""
    return PLACEHOLDER.sub(lambda m: as_text(values[m.group(1)].get(m.group(2), "")), text)


def substitute_words(words: list[str], values: dict[str, dict[str, Any]]) -> list[str]:
    """A command's words with placeholders filled; a word holding a parameter whose value is
    null (an optional parameter left unset) is left out, so ``--seed={params.seed}`` passes
    nothing rather than an empty ``--seed=``."""
    params = values.get("params", {})
    return [substitute(word, values) for word in words if not unset_parameter_word(word, params)]


def unset_parameter_word(word: str, params: dict[str, Any]) -> bool:
    """Whether ``word`` holds a ``{params.X}`` whose value is null (left out of commands)."""
    return any(kind == "params" and name in params and params[name] is None
               for kind, name in placeholders(word))
