"""Command-line parameters read statically from a script: argparse, click, typer or ``sys.argv``.

Nothing is executed: each reader walks the module's AST and reports what the code declares
(name, type, default, help, choices, how the value is passed). ``extract_parameters`` picks the
first framework a script uses, in the order argparse, click, typer, ``sys.argv``.

On/off switches (argparse ``store_true``/``store_false``/``BooleanOptionalAction``, click
``is_flag`` and ``--x/--no-x``, typer ``bool``) take no value on the command line, and a program's
``run`` line substitutes values without conditionals. So a switch becomes a ``str`` parameter whose
value is the token to pass (``choices: ["", "--normalize"]``, default the token that matches the
script's default): the empty string disappears when the run line is split, so
``--normalize=--normalize`` turns the switch on and the default leaves it off.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

ParamKind = Literal["option", "positional", "switch"]

_TYPE_NAMES = {"int": "int", "float": "float", "str": "str", "bool": "bool", "Path": "path",
               "PurePath": "path", "PosixPath": "path", "FileType": "path"}


@dataclass
class CliParam:
    """One parameter a script accepts, and how a run line passes it."""

    name: str
    type: str = "str"
    default: Any = None
    help: str | None = None
    choices: list[Any] | None = None
    kind: ParamKind = "option"
    flag: str | None = None  # the option string for options, e.g. "--alpha"
    required: bool = False
    line: int | None = None
    source: str = "argparse"
    notes: list[str] = field(default_factory=list)

    def cli_fragment(self) -> str:
        """How the step's ``run`` line passes this parameter."""
        if self.kind == "option":
            return f"{self.flag} {{params.{self.name}}}"
        return f"{{params.{self.name}}}"


@dataclass
class ScriptParams:
    """What a script declares: its parameters in command-line order and what could not be read."""

    framework: str | None
    params: list[CliParam] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def switch_param(name: str, on: str, off: str, default_on: bool, **fields: Any) -> CliParam:
    """A value-less switch as a token-valued parameter (see the module docstring)."""
    return CliParam(name=name, type="str", default=on if default_on else off,
                    choices=[off, on], kind="switch", **fields)


def identifier(option: str) -> str:
    """``--l1-ratio`` -> ``l1_ratio`` (argparse's own rule for ``dest``)."""
    return option.lstrip("-").replace("-", "_")


def call_name(node: ast.AST) -> str:
    """The dotted name of a call's function or an attribute chain: ``click.option``."""
    if isinstance(node, ast.Call):
        node = node.func
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def module_constants(tree: ast.Module) -> dict[str, Any]:
    """Module-level ``NAME = <literal>`` assignments, so ``default=DEFAULT_LR`` resolves."""
    constants: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
    return constants


_NOT_LITERAL = object()


def literal(node: ast.AST | None, constants: dict[str, Any]) -> Any:
    """The value of a literal expression (or a module constant); ``_NOT_LITERAL`` otherwise."""
    if node is None:
        return None
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NOT_LITERAL


def is_literal(value: Any) -> bool:
    return value is not _NOT_LITERAL


def type_from_node(node: ast.AST | None) -> str | None:
    """``int``, ``float``, ``pathlib.Path``, ``argparse.FileType('r')`` -> a parameter type."""
    if node is None:
        return None
    name = call_name(node).rsplit(".", 1)[-1]
    return _TYPE_NAMES.get(name)


def type_from_default(default: Any) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    return "str"


def keywords(call: ast.Call) -> dict[str, ast.AST]:
    return {kw.arg: kw.value for kw in call.keywords if kw.arg}


def string_args(call: ast.Call) -> list[str]:
    return [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]


def text_value(node: ast.AST | None, constants: dict[str, Any]) -> str | None:
    """A help text when it is a literal string; ``%(default)s`` markers are kept as written."""
    value = literal(node, constants)
    return value if isinstance(value, str) else None


def flatten_default(param: CliParam) -> None:
    """A list default (``nargs``/``multiple``) as space-separated words, which the run line
    splits back into separate arguments."""
    if isinstance(param.default, (list, tuple)):
        param.default = " ".join(str(item) for item in param.default)
        param.type = "str"


Reader = Callable[[ast.Module, dict[str, Any]], "ScriptParams | None"]


def extract_parameters(source: str, filename: str = "<script>") -> ScriptParams:
    """The parameters ``source`` declares; a script that does not parse declares none."""
    from samepack.init.argparse_ast import read_argparse
    from samepack.init.argv_ast import read_sys_argv
    from samepack.init.click_ast import read_click, read_typer

    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError) as error:
        return ScriptParams(framework=None, notes=[f"{filename} does not parse: {error}"])
    constants = module_constants(tree)
    readers: list[Reader] = [read_argparse, read_click, read_typer, read_sys_argv]
    for reader in readers:
        found = reader(tree, constants)
        if found is not None:
            return found
    return ScriptParams(framework=None)
