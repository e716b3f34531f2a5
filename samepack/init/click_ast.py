"""click decorators and typer signatures read from the AST (see ``samepack.init.params``)."""

from __future__ import annotations

import ast
from typing import Any

from samepack.init.params import (
    CliParam, ModuleView, ScriptParams, call_name, fix_multiple, identifier, is_literal, keywords,
    literal, string_args, switch_param, fixed_param, text_value,
)
from samepack.program.values import infer_type

_CLICK_TYPES = {"INT": "int", "FLOAT": "float", "STRING": "str", "BOOL": "bool", "int": "int",
                "float": "float", "str": "str", "bool": "bool", "Path": "path", "File": "path",
                "IntRange": "int", "FloatRange": "float", "Choice": "str"}


def _functions(module: ModuleView) -> list[ast.FunctionDef]:
    found = [n for n in module.nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return sorted(found, key=lambda n: n.lineno)


# ---- click -------------------------------------------------------------------------------

def _click_name(decls: list[str]) -> tuple[str, list[str]]:
    """click's naming: a bare identifier wins, else the first long option; ``/`` splits the
    on and off spellings of a boolean flag."""
    options = [part for decl in decls for part in decl.split("/") if part.startswith("-")]
    bare = [decl for decl in decls if not decl.startswith("-")]
    if bare:
        return bare[0], options
    long_options = [o for o in options if o.startswith("--")]
    return identifier((long_options or options)[0]).lower(), options


def _click_type(node: ast.AST | None, constants: dict[str, Any]) -> tuple[str | None, list | None]:
    if node is None:
        return None, None
    name = call_name(node).rsplit(".", 1)[-1]
    choices = None
    if name == "Choice" and isinstance(node, ast.Call) and node.args:
        value = literal(node.args[0], constants)
        choices = list(value) if isinstance(value, (list, tuple)) and is_literal(value) else None
    return _CLICK_TYPES.get(name), choices


def _click_param(call: ast.Call, constants: dict[str, Any]) -> CliParam | None:
    decls = string_args(call)
    if not decls:
        return None
    kw = keywords(call)
    name, options = _click_name(decls)
    default = literal(kw.get("default"), constants)
    fields: dict[str, Any] = {"help": text_value(kw.get("help"), constants),
                              "line": call.lineno, "source": "click", "notes": []}
    if not is_literal(default):
        fields["notes"].append(f"default {ast.unparse(kw['default'])} is computed; left empty")
        default = None
    is_argument = call_name(call).endswith("argument")
    if not is_argument and any("/" in decl for decl in decls):
        on, off = decls[[("/" in d) for d in decls].index(True)].split("/")[:2]
        return switch_param(name, on.strip(), off.strip(), default is True, **fields)
    if not is_argument and literal(kw.get("is_flag"), constants) is True:
        return fixed_param(name, options[0], "is a switch (is_flag)", **fields)
    declared, choices = _click_type(kw.get("type"), constants)
    param = CliParam(name=name, type=declared or (infer_type(default) if default is not None
                                                  else "str"),
                     default=default, choices=choices,
                     kind="positional" if is_argument else "option",
                     flag=None if is_argument else next((o for o in options if o.startswith("--")),
                                                        options[0]),
                     required=literal(kw.get("required"), constants) is True or
                     (is_argument and default is None), **fields)
    if literal(kw.get("multiple"), constants) is True or \
            literal(kw.get("nargs"), constants) not in {None, 1}:
        fix_multiple(param)
    return param


def read_click(module: ModuleView) -> ScriptParams | None:
    """Options and arguments of every click command in the file (decorator order)."""
    if "click" not in module.imports:
        return None
    result = ScriptParams(framework="click")
    commands = 0
    for function in _functions(module):
        calls = [d for d in function.decorator_list if isinstance(d, ast.Call)]
        params = [call for call in calls if call_name(call).rsplit(".", 1)[-1] in
                  {"option", "argument"}]
        commands += any(call_name(c).rsplit(".", 1)[-1] in {"command", "group"} for c in calls)
        for call in params:
            param = _click_param(call, module.constants)
            if param is not None and param.name not in {p.name for p in result.params}:
                result.params.append(param)
    if commands > 1:
        result.notes.append(f"{commands} click commands; their options are listed together")
    return result if result.params or commands else None


# ---- typer -------------------------------------------------------------------------------

def _typer_functions(module: ModuleView) -> list[ast.FunctionDef]:
    run_targets = {node.args[0].id for node in module.calls()
                   if call_name(node) in {"typer.run", "run"}
                   and node.args and isinstance(node.args[0], ast.Name)}
    chosen = []
    for function in _functions(module):
        decorated = any(isinstance(d, ast.Call) and call_name(d).endswith(".command")
                        for d in function.decorator_list)
        if decorated or function.name in run_targets:
            chosen.append(function)
    return chosen


def _annotation(node: ast.AST | None) -> tuple[str | None, ast.Call | None]:
    """The parameter type of an annotation, and the typer.Option/Argument inside Annotated[]."""
    if node is None:
        return None, None
    if isinstance(node, ast.Subscript) and call_name(node.value).endswith("Annotated"):
        elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        marker = next((e for e in elements[1:] if isinstance(e, ast.Call)), None)
        return _annotation(elements[0])[0], marker
    if isinstance(node, ast.Subscript) and call_name(node.value).endswith("Optional"):
        return _annotation(node.slice)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left = _annotation(node.left)[0]
        return (left if left != "None" else _annotation(node.right)[0]), None
    if isinstance(node, ast.Constant) and node.value is None:
        return "None", None
    return _CLICK_TYPES.get(call_name(node).rsplit(".", 1)[-1]), None


def _typer_param(arg: ast.arg, default_node: ast.AST | None,
                 constants: dict[str, Any]) -> CliParam:
    declared, marker = _annotation(arg.annotation)
    if isinstance(default_node, ast.Call) and call_name(default_node).rsplit(".", 1)[-1] in \
            {"Option", "Argument"}:
        marker, default_node = default_node, (default_node.args[0] if default_node.args else None)
    kw = keywords(marker) if marker is not None else {}
    if marker is not None and "default" in kw:
        default_node = kw["default"]
    default = literal(default_node, constants)
    required = default is Ellipsis or (default_node is None and marker is None)
    if not is_literal(default) or default is Ellipsis:
        default = None
    is_argument = (marker is not None and call_name(marker).endswith("Argument")) or (
        marker is None and default_node is None)
    decls = string_args(marker) if marker is not None else []
    flag = next((d.split("/")[0] for d in decls if d.startswith("--")),
                "--" + arg.arg.replace("_", "-"))
    fields: dict[str, Any] = {"help": text_value(kw.get("help"), constants),
                              "line": arg.lineno, "source": "typer", "notes": []}
    param_type = declared if declared not in {None, "None"} else (
        infer_type(default) if default is not None else "str")
    if param_type == "bool" and not is_argument:
        return switch_param(arg.arg, flag, "--no-" + flag[2:], default is True, **fields)
    return CliParam(name=arg.arg, type=param_type, default=default,
                    kind="positional" if is_argument else "option",
                    flag=None if is_argument else flag, required=required, **fields)


def read_typer(module: ModuleView) -> ScriptParams | None:
    """Parameters of typer commands (``@app.command()`` or ``typer.run(main)``)."""
    if "typer" not in module.imports:
        return None
    functions = _typer_functions(module)
    if not functions:
        return None
    result = ScriptParams(framework="typer")
    for function in functions:
        args = function.args.args
        defaults: list[ast.AST | None] = [None] * (len(args) - len(function.args.defaults))
        defaults += list(function.args.defaults)
        for arg, default_node in zip(args, defaults):
            if arg.arg not in {p.name for p in result.params}:
                result.params.append(_typer_param(arg, default_node, module.constants))
    if len(functions) > 1:
        result.notes.append(f"{len(functions)} typer commands; their options are listed together")
    return result
