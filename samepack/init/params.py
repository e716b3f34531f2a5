"""Command-line parameters read statically from a script: argparse, click, typer or ``sys.argv``.

Nothing is executed: each reader walks the module's AST and reports what the code declares
(name, type, default, help, choices, how the value is passed). ``extract_parameters`` picks the
first framework a script uses, in the order argparse, click, typer, ``sys.argv``.

A run line substitutes one value into each word and has no conditionals, so how a parameter is
passed depends on its kind:

- options (``--alpha {params.alpha}``) and positionals (``{params.data}``) take their value;
- two-spelling switches (argparse ``BooleanOptionalAction``, click ``--x/--no-x``, typer ``bool``)
  become a ``str`` parameter whose value is the spelling to pass
  (``choices: ["--no-cache", "--cache"]``, default the one matching the script's default);
- one-spelling switches (``store_true``/``store_false``/``store_const``, click ``is_flag``) and
  options taking several values (``nargs="+"``, click ``multiple``) cannot be expressed as one
  word: they are ``fixed`` — not parameters, the script's default applies, and ``init`` says so
  (add the flag to the step's ``run`` to change it).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

ParamKind = Literal["option", "positional", "switch", "fixed"]

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

    @property
    def optional(self) -> bool:
        """Not required and no default (argparse/click ``default=None``, typer ``Optional``):
        the script runs without it, so the program may leave it unset."""
        return not self.required and self.default is None

    def cli_fragment(self) -> str:
        """How the step's ``run`` line passes this parameter. An optional option is one word,
        ``--seed={params.seed}``, which the runner leaves out while the value is null."""
        if self.kind == "option":
            if self.optional:
                return f"{self.flag}={{params.{self.name}}}"
            return f"{self.flag} {{params.{self.name}}}"
        return f"{{params.{self.name}}}"


@dataclass
class ScriptParams:
    """What a script declares: its parameters in command-line order and what could not be read."""

    framework: str | None
    params: list[CliParam] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> list[CliParam]:
        """The parameters a run line passes (everything but ``fixed``)."""
        return [p for p in self.params if p.kind != "fixed"]

    @property
    def fixed(self) -> list[CliParam]:
        return [p for p in self.params if p.kind == "fixed"]

    def messages(self) -> list[str]:
        """Everything worth telling the user: the script's notes, then each parameter's."""
        return self.notes + [f"line {p.line}: {note}" for p in self.params for note in p.notes]


def switch_param(name: str, on: str, off: str, default_on: bool, **fields: Any) -> CliParam:
    """A two-spelling switch as a spelling-valued parameter (see the module docstring)."""
    return CliParam(name=name, type="str", default=on if default_on else off,
                    choices=[off, on], kind="switch", flag=on, **fields)


def fixed_param(name: str, flag: str, why: str, **fields: Any) -> CliParam:
    """A flag a run line cannot pass as one word: reported, left at the script's default."""
    param = CliParam(name=name, kind="fixed", flag=flag, **fields)
    param.notes.append(f"{flag} {why}; not a parameter (the script's default applies; add it "
                       "to the step's run line to change it)")
    return param


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


def path_text(node: ast.AST) -> str | None:
    """The path a literal, ``Path("a")``, ``a / b`` or ``os.path.join(a, b)`` of literals
    spells, if any."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        left, right = path_text(node.left), path_text(node.right)
        return f"{left}/{right}" if left is not None and right is not None else None
    if isinstance(node, ast.Call):
        name = call_name(node)
        parts = [path_text(arg) for arg in node.args]
        if name.endswith("path.join") and parts and None not in parts:
            return "/".join(parts)  # type: ignore[arg-type]
        if name.rsplit(".", 1)[-1] in {"Path", "PurePath", "PosixPath"} and len(parts) == 1:
            return parts[0]
    return None


def literal(node: ast.AST | None, constants: dict[str, Any]) -> Any:
    """The value of a literal expression, a module constant or a literal path
    (``Path("data")``); ``_NOT_LITERAL`` otherwise."""
    if node is None:
        return None
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        text = path_text(node) if isinstance(node, (ast.Call, ast.BinOp)) else None
        return text if text is not None else _NOT_LITERAL


def is_literal(value: Any) -> bool:
    return value is not _NOT_LITERAL


def type_from_node(node: ast.AST | None) -> str | None:
    """``int``, ``float``, ``pathlib.Path``, ``argparse.FileType('r')`` -> a parameter type."""
    if node is None:
        return None
    name = call_name(node).rsplit(".", 1)[-1]
    return _TYPE_NAMES.get(name)


def keywords(call: ast.Call) -> dict[str, ast.AST]:
    return {kw.arg: kw.value for kw in call.keywords if kw.arg}


def string_args(call: ast.Call) -> list[str]:
    return [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]


def text_value(node: ast.AST | None, constants: dict[str, Any]) -> str | None:
    """A help text when it is a literal string; ``%(default)s`` markers are kept as written."""
    value = literal(node, constants)
    return value if isinstance(value, str) else None


def fix_multiple(param: CliParam) -> None:
    """An option taking several values becomes ``fixed`` (see the module docstring)."""
    param.kind = "fixed"
    param.notes.append(f"{param.flag or param.name} takes several values; not a parameter (the "
                       "script's default applies; add values to the step's run line)")


@dataclass
class ModuleView:
    """A parsed script, walked once: every node, the top-level modules it imports and its
    module-level literal constants. Readers look at this instead of walking the tree again."""

    tree: ast.Module
    nodes: list[ast.AST]
    imports: set[str]
    constants: dict[str, Any]

    @classmethod
    def of(cls, tree: ast.Module) -> "ModuleView":
        nodes = list(ast.walk(tree))
        imports = {alias.name.split(".")[0] for node in nodes if isinstance(node, ast.Import)
                   for alias in node.names}
        imports |= {node.module.split(".")[0] for node in nodes
                    if isinstance(node, ast.ImportFrom) and node.module}
        return cls(tree, nodes, imports, module_constants(tree))

    def calls(self) -> list[ast.Call]:
        return [node for node in self.nodes if isinstance(node, ast.Call)]


Reader = Callable[[ModuleView], "ScriptParams | None"]


def extract_parameters(source: str, filename: str = "<script>") -> ScriptParams:
    """The parameters ``source`` declares; a script that does not parse declares none."""
    from samepack.init.argparse_ast import read_argparse
    from samepack.init.argv_ast import read_sys_argv
    from samepack.init.click_ast import read_click, read_typer

    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError) as error:
        return ScriptParams(framework=None, notes=[f"{filename} does not parse: {error}"])
    module = ModuleView.of(tree)
    readers: list[Reader] = [read_argparse, read_click, read_typer, read_sys_argv]
    for reader in readers:
        found = reader(module)
        if found is not None:
            return found
    return ScriptParams(framework=None)
