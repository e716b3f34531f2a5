"""argparse ``add_argument`` calls read from the AST (see ``samepack.init.params``)."""

from __future__ import annotations

import ast
from typing import Any

from samepack.init.params import (
    CliParam, ModuleView, ScriptParams, call_name, fix_multiple, identifier, is_literal, keywords,
    literal, string_args, switch_param, fixed_param, text_value, type_from_node,
)
from samepack.program.values import infer_type

_SKIPPED_ACTIONS = {"help", "version"}
_UNSUPPORTED_ACTIONS = {"count", "append", "append_const", "extend"}


def _add_argument_calls(module: ModuleView) -> list[ast.Call]:
    calls = [node for node in module.calls()
             if isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument"]
    return sorted(calls, key=lambda call: (call.lineno, call.col_offset))


def _dest(options: list[str], kw: dict[str, ast.AST], constants: dict[str, Any]) -> str:
    dest = literal(kw.get("dest"), constants)
    if isinstance(dest, str):
        return dest
    long_options = [o for o in options if o.startswith("--")]
    return identifier(long_options[0] if long_options else options[0])


def _action(kw: dict[str, ast.AST], constants: dict[str, Any]) -> str:
    node = kw.get("action")
    if node is None:
        return "store"
    value = literal(node, constants)
    if isinstance(value, str):
        return value
    return call_name(node).rsplit(".", 1)[-1]  # argparse.BooleanOptionalAction


def _switch(name: str, options: list[str], action: str, default: Any, **fields: Any) -> CliParam:
    """A value-less option. Its default token is the one giving the script's own default:
    nothing for ``store_true``/``store_false``, ``--x`` or ``--no-x`` for BooleanOptionalAction."""
    flag = next((o for o in options if o.startswith("--")), options[0])
    if action == "BooleanOptionalAction":
        return switch_param(name, flag, "--no-" + flag[2:], default is True, **fields)
    return fixed_param(name, flag, f"is a switch (action={action})", **fields)


def _value_param(name: str, options: list[str], kw: dict[str, ast.AST], default: Any,
                 constants: dict[str, Any], **fields: Any) -> CliParam:
    declared = type_from_node(kw.get("type"))
    param_type = declared or (infer_type(default) if default is not None else "str")
    if kw.get("type") is not None and declared is None:
        fields["notes"].append(f"type={ast.unparse(kw['type'])} read as str")
    if param_type == "bool":  # type=bool turns any non-empty text into True
        fields["notes"].append("type=bool treats every non-empty value as true; read as str")
        param_type = "str"
    choices = literal(kw.get("choices"), constants)
    positional = not options[0].startswith("-")
    flag = None if positional else next((o for o in options if o.startswith("--")), options[0])
    required = bool(literal(kw.get("required"), constants) is True) or (
        positional and literal(kw.get("nargs"), constants) not in {"?", "*"})
    param = CliParam(name=name, type=param_type, default=default,
                     choices=list(choices) if isinstance(choices, (list, tuple, set)) else None,
                     kind="positional" if positional else "option", flag=flag,
                     required=required and default is None, **fields)
    if literal(kw.get("nargs"), constants) not in {None, "?", 1}:
        fix_multiple(param)
    return param


def _read_call(call: ast.Call, constants: dict[str, Any], notes: list[str]) -> CliParam | None:
    options = string_args(call)
    if not options:
        return None
    kw = keywords(call)
    action = _action(kw, constants)
    if action in _SKIPPED_ACTIONS:
        return None
    name = _dest(options, kw, constants)
    if action in _UNSUPPORTED_ACTIONS:
        notes.append(f"line {call.lineno}: {options[0]} uses action={action!r}; "
                     "not made a parameter")
        return None
    default = literal(kw.get("default"), constants)
    fields: dict[str, Any] = {"help": text_value(kw.get("help"), constants), "line": call.lineno,
                              "source": "argparse", "notes": []}
    if not is_literal(default):
        fields["notes"].append(f"default {ast.unparse(kw['default'])} is computed at run time; "
                               "left empty")
        default = None
    if action in {"store_true", "store_false", "store_const", "BooleanOptionalAction"}:
        return _switch(name, options, action, default, **fields)
    return _value_param(name, options, kw, default, constants, **fields)


def read_argparse(module: ModuleView) -> ScriptParams | None:
    """The parameters of every ``add_argument`` call, or None when argparse is not used."""
    if "argparse" not in module.imports:
        return None
    result = ScriptParams(framework="argparse")
    seen: set[str] = set()
    for call in _add_argument_calls(module):
        param = _read_call(call, module.constants, result.notes)
        if param is None or param.name in seen:
            continue
        seen.add(param.name)
        result.params.append(param)
    if any(call_name(n).endswith("add_subparsers") for n in module.calls()):
        result.notes.append("the script has subcommands; their options are listed together")
    return result
