"""Read one source file (``.py`` or ``.ipynb``) into :class:`FileFacts`.

Two ways to find imports, with the same meaning of "optional" (inside the body of a
``try`` with a handler that catches ImportError/ModuleNotFoundError and goes on, or inside such
a handler, or under ``if TYPE_CHECKING`` or an availability check such as
``if is_torch_available():`` / ``if find_spec("x")``, without crossing a ``def``/``class``).
At module level, a handler whose last statement raises or exits only words the failure
better: the import it guards is required (the module cannot load without it). Inside a
function it still marks an optional feature (``please install ceph to use CephBackend``).

- ``full``: the whole file through ``ast.parse``; files that do not parse are problems.
- ``fast`` (large trees): only the import statements are parsed with ``ast`` — found by their
  line shape outside triple-quoted strings — so syntax errors elsewhere go unnoticed.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import replace
from pathlib import Path

from samepack.scan.sources.facts import FileFacts, ImportUse, import_uses
from samepack.scan.sources.fastimports import fast_imports
from samepack.scan.sources.hints import find_hints
from samepack.scan.sources.notebook import notebook_cells

IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def read_facts(root: Path, rel: str, mode: str = "full") -> FileFacts:
    """Facts of ``root/rel``; unreadable or unparsable files come back with ``problem`` set."""
    facts = FileFacts(rel)
    try:
        with open(os.path.join(root, rel), "rb") as handle:
            raw = handle.read()
    except OSError as error:
        facts.problem = f"unreadable: {error.strerror or error}"
        return facts
    try:
        if rel.endswith(".ipynb"):
            cells, facts.pip_installs = notebook_cells(raw)
            facts.imports, facts.problem = cell_imports(cells)
            facts.hints = find_hints("".join(text for _, text in cells))
            return facts
        text = decode_source(raw)
        facts.imports = full_imports(text) if mode == "full" else fast_imports(text)
    except SyntaxError as error:
        facts.problem = syntax_problem(error)
        return facts
    except (ValueError, UnicodeDecodeError) as error:
        facts.problem = str(error)
        return facts
    facts.hints = find_hints(text)
    return facts


def decode_source(raw: bytes) -> str:
    """Source text per PEP 263 (a coding cookie in the first two lines, else UTF-8)."""
    encoding = "utf-8"
    for line in raw.split(b"\n", 2)[:2]:
        match = _COOKIE.match(line)
        if match:
            encoding = match.group(1).decode("ascii")
            break
    try:
        return raw.decode(encoding).lstrip("\ufeff")
    except (UnicodeDecodeError, LookupError) as error:
        raise ValueError(f"cannot decode as {encoding}: {error}") from None


def cell_imports(cells: list[tuple[int, str]]) -> tuple[list[ImportUse], str | None]:
    """The imports of every notebook cell that parses (lines numbered in the whole notebook),
    and a problem naming the cells that do not."""
    found: list[ImportUse] = []
    broken: list[str] = []
    for start, text in cells:
        try:
            uses = full_imports(text)
        except SyntaxError as error:
            broken.append(syntax_problem(error, offset=start - 1))
            continue
        found += [replace(use, line=use.line + start - 1) for use in uses]
    if not broken:
        return found, None
    more = f" (+{len(broken) - 1} more cells)" if len(broken) > 1 else ""
    return found, f"a cell {broken[0]}{more}; the other cells were read"


def syntax_problem(error: SyntaxError, offset: int = 0) -> str:
    where = f"line {error.lineno + offset}: " if error.lineno else ""
    message = error.msg or "invalid syntax"
    if "Missing parentheses in call to 'print'" in message or "Missing parentheses in call to 'exec'" in message:
        return f"does not parse as Python 3, looks like Python 2 ({where}{message})"
    return f"does not parse as Python 3 ({where}{message})"


def full_imports(text: str) -> list[ImportUse]:
    """Every import in ``text``, read from its full syntax tree."""
    found: list[ImportUse] = []
    _visit(ast.parse(text).body, False, found, in_function=False)
    return found


def _visit(body: list[ast.stmt], optional: bool, found: list[ImportUse], in_function: bool) -> None:
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.extend(import_uses(node, node.lineno, optional))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _visit(node.body, False, found, in_function=True)
        elif isinstance(node, ast.ClassDef):  # a class body runs when the module loads
            _visit(node.body, False, found, in_function)
        elif isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            fallbacks = [h for h in node.handlers if in_function or not ends_in_failure(h.body)]
            _visit(node.body, optional or catches_import_error(fallbacks), found, in_function)
            for handler in node.handlers:  # the fallback for a missing import is optional too
                _visit(handler.body, optional or catches_import_error([handler]), found, in_function)
            _visit(node.orelse, optional, found, in_function)
            _visit(node.finalbody, optional, found, in_function)
        elif isinstance(node, ast.If):
            _visit(node.body, optional or _is_type_checking(node.test)
                   or is_availability_check(node.test), found, in_function)
            _visit(node.orelse, optional, found, in_function)
        else:
            for name in ("body", "orelse", "finalbody"):
                _visit(getattr(node, name, None) or [], optional, found, in_function)
            for case in getattr(node, "cases", None) or []:
                _visit(case.body, optional, found, in_function)


def catches_import_error(handlers: list[ast.ExceptHandler]) -> bool:
    for handler in handlers:
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(_name_of(kind) in IMPORT_ERRORS for kind in kinds if kind is not None):
            return True
    return False


_EXITS = frozenset({"exit", "quit", "_exit"})  # sys.exit, exit(), os._exit


def ends_in_failure(body: list[ast.stmt]) -> bool:
    """Whether a handler ends by raising or exiting (``raise ImportError("pip install x")``):
    it is no fallback, the program cannot go on without the import."""
    last = body[-1] if body else None
    if isinstance(last, ast.Raise):
        return True
    return isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) \
        and _name_of(last.value.func) in _EXITS


# ``torch.cuda.is_available()`` asks about hardware, not a package: not one of these.
AVAILABILITY_NAME = re.compile(r"^(?:_?is_\w+_available|_\w+_available|_?[A-Z0-9_]+_AVAILABLE|find_spec)$")


def is_availability_check(test: ast.expr) -> bool:
    """Whether an ``if`` test asks if a package can be imported: a call or flag named like
    ``is_torch_available()``, ``_apex_available``, ``TORCH_AVAILABLE`` or ``find_spec(...)``
    anywhere in it (``if is_x_available() and not y:``). The code under it runs without the
    package too."""
    return any(isinstance(node, (ast.Name, ast.Attribute))
               and AVAILABILITY_NAME.match(_name_of(node) or "") for node in ast.walk(test))


def _is_type_checking(test: ast.expr) -> bool:
    return _name_of(test) == "TYPE_CHECKING"


def _name_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None
