"""One notebook step as a plain Python script (pure text generation; nothing here runs it).

The script has, in order: the notebook's ``from __future__`` imports (a notebook may have them
in any cell, a script only at its top), the state carried from earlier steps, the step's cells
(magic and shell lines commented out) with parameters injected after the cell tagged
``parameters`` (papermill's convention) or at the top, and saving the state for later steps.

Each step is its own process, so what one step defines reaches the next through a state file,
as in SAME: modules are re-imported by name; functions and classes the notebook defined are
re-created from their source, also when they were themselves restored in an earlier step (the
source travels with them); other values are pickled one by one. Everything is restored in the
order it was first bound (a class whose body reads a constant comes after that constant); two
names bound to one object come back as two equal objects. A value that cannot be carried is
replaced by a stand-in that raises, naming the value and why, as soon as it is used (SAME's
"exploding variables"), and a warning is printed once, in the step that made it. The runtime
code is plain stdlib Python that runs in the program's own interpreter (3.7 and later).
"""

from __future__ import annotations

import ast
from typing import Any

from samepack.errors import InputError
from samepack.program.notebook import MAGIC, cell_source, cell_tags, notebook_steps

RUNTIME = r'''
# state carried between steps by samepack
class _SamepackNotCarried(object):
    """Stands for a value an earlier step could not hand over; using it says why."""
    __slots__ = ("_sp_name", "_sp_reason")

    def __init__(self, name, reason):
        object.__setattr__(self, "_sp_name", name)
        object.__setattr__(self, "_sp_reason", reason)

    def _sp_fail(self, *args, **kwargs):
        raise RuntimeError("samepack: %s was not carried over from an earlier step (%s)"
                           % (object.__getattribute__(self, "_sp_name"),
                              object.__getattribute__(self, "_sp_reason")))

    def __repr__(self):
        return "<not carried over: %s>" % object.__getattribute__(self, "_sp_reason")


for _sp_method in ("__getattr__", "__setattr__", "__delattr__", "__call__", "__iter__",
                   "__next__", "__len__", "__getitem__", "__setitem__", "__delitem__",
                   "__contains__", "__bool__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__",
                   "__ge__", "__hash__", "__add__", "__sub__", "__mul__", "__truediv__",
                   "__floordiv__", "__mod__", "__pow__", "__neg__", "__int__", "__float__",
                   "__index__", "__str__", "__format__", "__enter__", "__exit__",
                   "__reduce__", "__reduce_ex__"):
    setattr(_SamepackNotCarried, _sp_method, _SamepackNotCarried._sp_fail)
del _sp_method


def _sp_restore(namespace, path):
    import importlib, linecache, os, pickle
    namespace["__samepack_sources__"] = registry = {}
    if path is None or not os.path.exists(path):  # the first step starts afresh
        return
    with open(path, "rb") as handle:
        state = pickle.load(handle)
    for name, module in state["imports"].items():
        try:
            namespace[name] = importlib.import_module(module)
        except Exception as error:
            namespace[name] = _SamepackNotCarried(name, "import %s failed: %s" % (module, error))

    def restore(entry):
        if entry[0] == "value":
            namespace[entry[1]] = pickle.loads(entry[2])
            return
        kind, name, defined, source = entry
        filename = "<samepack: %s>" % name
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)
        namespace[name] = namespace[defined]
        registry[name] = (namespace[name], defined, source)

    # In the order they were first bound; what fails (a class whose body reads a value bound
    # later, an instance of such a class) is tried again while that makes progress.
    pending, errors = list(state["entries"]), {}
    while pending:
        failed = []
        for entry in pending:
            try:
                restore(entry)
            except Exception as error:
                failed.append(entry)
                errors[entry[1]] = error
        if len(failed) == len(pending):
            break
        pending = failed
    for entry in pending:
        why = "unpickling failed" if entry[0] == "value" else "re-defining it failed"
        namespace[entry[1]] = _SamepackNotCarried(entry[1], "%s: %r" % (why, errors[entry[1]]))
    for name, reason in state["unavailable"].items():
        namespace[name] = _SamepackNotCarried(name, reason)


def _sp_source(name, value, registry):
    """(defined name, source) of a notebook function or class, or a reason it has none."""
    import ast, inspect
    known = registry.get(name)
    if known is not None and known[0] is value:
        return known[1], known[2]
    for other in registry.values():
        if other[0] is value:
            return other[1], other[2]
    if "<locals>" in getattr(value, "__qualname__", ""):
        return None, "it is defined inside a function"
    try:
        source = inspect.getsource(value)
    except (OSError, TypeError) as error:
        return None, "its source is not available (%s)" % error
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None, "its source cannot be separated from the line it is on"
    node = tree.body[0] if len(tree.body) == 1 else None
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name, source
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda) \
            and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, source
    return None, "its source cannot be separated from the line it is on"


def _sp_save(namespace, path, warn, final=False):
    import inspect, os, pickle, sys, types
    registry = namespace.get("__samepack_sources__") or {}
    secrets = [os.environ.get(n) for n in os.environ.get("SAMEPACK_SECRET_ENV", "").split(",")]
    secrets = [value.encode("utf-8") for value in secrets if value] if final else []
    state = {"imports": {}, "entries": [], "unavailable": {}}
    skip = ("In", "Out", "get_ipython", "exit", "quit")
    for name, value in list(namespace.items()):
        if name.startswith("_") or name in skip:
            continue
        if isinstance(value, _SamepackNotCarried):
            state["unavailable"][name] = object.__getattribute__(value, "_sp_reason")
        elif isinstance(value, types.ModuleType):
            state["imports"][name] = value.__name__
        elif (inspect.isroutine(value) or inspect.isclass(value)) \
                and getattr(value, "__module__", None) == "__main__":
            defined, source = _sp_source(name, value, registry)
            if defined is None:
                kind = "class" if inspect.isclass(value) else "function"
                state["unavailable"][name] = "a %s: %s" % (kind, source)
            else:
                state["entries"].append(("definition", name, defined, source))
        else:
            try:
                pickled = pickle.dumps(value)
                if any(secret in pickled for secret in secrets):
                    state["unavailable"][name] = "it holds a secret's value"
                else:
                    state["entries"].append(("value", name, pickled))
            except Exception as error:
                state["unavailable"][name] = "a %s that cannot be pickled: %s" % (
                    type(value).__name__, error)
    if warn:  # once, in the step that made the value (a stand-in was reported already)
        for name, reason in sorted(state["unavailable"].items()):
            if not isinstance(namespace.get(name), _SamepackNotCarried):
                print("samepack: %s cannot be carried to the next step: %s" % (name, reason),
                      file=sys.stderr)
    # only this user may read it: the variables may hold a secret's value
    with os.fdopen(os.open(path + ".part", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                   "wb") as handle:
        pickle.dump(state, handle)
    os.replace(path + ".part", path)
    if final:  # what carried the state between steps may hold a secret: gone with the last step
        try:
            os.unlink(path + ".carry")
        except FileNotFoundError:
            pass
'''


CELLS = r'''
# each cell runs as a kernel runs it: the value of a bare last expression is shown, and what the
# cell prints is kept for the run record (to $SAMEPACK_CELL_OUTPUTS, when samepack asks)
class _SpTee(object):
    def __init__(self, stream):
        self.stream, self.parts = stream, []

    def write(self, text):
        self.parts.append(text)
        return self.stream.write(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


_sp_outputs = []


def _sp_cell(namespace, number, source):
    import ast, linecache, sys
    filename = "<cell %d>" % number
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    tree = ast.parse(source, filename)
    shown = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        shown = ast.Expression(tree.body.pop().value)
    definitions = [node for node in tree.body
                   if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    tee = sys.stdout = _SpTee(sys.stdout)
    try:
        exec(compile(tree, filename, "exec"), namespace)
        # their source, for carrying them to the next step (a class defined by exec has none
        # that inspect can find)
        lines, registry = source.splitlines(True), namespace.setdefault("__samepack_sources__", {})
        for node in definitions:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            if node.name in namespace:
                registry[node.name] = (namespace[node.name], node.name,
                                       "".join(lines[first - 1:node.end_lineno]))
        if shown is not None:
            value = eval(compile(shown, filename, "eval"), namespace)
            if value is not None:
                print(repr(value))
    finally:
        sys.stdout = tee.stream
        _sp_outputs.append({"cell": number, "text": "".join(tee.parts)})


def _sp_keep_outputs():
    import json, os
    path = os.environ.get("SAMEPACK_CELL_OUTPUTS")
    if path:
        with open(path, "w") as handle:
            json.dump(_sp_outputs, handle)


__import__("atexit").register(_sp_keep_outputs)
'''


def _cell_call(number: int, code: str) -> str:
    """A cell run through ``_sp_cell``; code that does not parse stays as it is, so Python
    reports it at its own line."""
    try:
        ast.parse(code)
    except SyntaxError:
        return code
    return f"_sp_cell(globals(), {number}, {code!r})\n"


def _assignments(params: dict[str, Any]) -> str:
    lines = ["# parameters injected by samepack"]
    lines += [f"{name} = {value!r}" for name, value in sorted(params.items())]
    return "\n".join(lines) + "\n"


def _code(cell: dict[str, Any]) -> str:
    lines = [("# " + line) if MAGIC.match(line) else line
             for line in cell_source(cell).splitlines()]
    return "\n".join(lines) + "\n"


def split_future(code: str) -> tuple[list[str], str]:
    """(the ``from __future__`` import statements of ``code``, ``code`` without them). Code
    that does not parse is left alone: Python reports it where it is."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return [], code
    lines = code.splitlines()
    futures: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            start, end = node.lineno - 1, (node.end_lineno or node.lineno)
            futures.append(" ".join(line.strip() for line in lines[start:end]))
            lines[start:end] = ["pass  # " + line for line in lines[start:end]]
    return futures, "\n".join(lines) + "\n"


def step_script(notebook: dict[str, Any], step_name: str, params: dict[str, Any],
                state_path: str | None = None) -> str:
    """The Python source that runs ``step_name``'s cells with ``params`` injected; with
    ``state_path``, what earlier steps defined is restored from that file first, and what this
    one defines is saved to it at the end."""
    steps = notebook_steps(notebook)
    if not step_name and len(steps) == 1:  # `notebook: FILE.ipynb`: its one step, all its cells
        step_name = steps[0].name
    position = next((i for i, s in enumerate(steps) if s.name == step_name), None)
    if position is None:
        names = ", ".join(s.name for s in steps)
        raise InputError(f"notebook has no step '{step_name}' (it has: {names})",
                         "name one as NOTEBOOK.ipynb#STEP; steps come from cells tagged same_step_N")
    cells = notebook["cells"]
    futures: list[str] = []
    for earlier in steps[:position]:  # a kernel keeps future flags for the cells after them
        for index in earlier.cells:
            futures += split_future(_code(cells[index]))[0]
    parts: list[str] = []
    injected = False
    for index in steps[position].cells:
        found, code = split_future(_code(cells[index]))
        futures += found
        parts.append(_cell_call(index + 1, code))
        if "parameters" in cell_tags(cells[index]):
            parts.append(_assignments(params))
            injected = True
    if not injected:
        parts.insert(0, _assignments(params))
    parts.insert(0, CELLS)
    if state_path:
        # Between steps the state goes through STATE.carry, which may hold a secret's value and
        # is removed with the run; the last step leaves STATE itself, with such values left out.
        last = position == len(steps) - 1
        carry = state_path + ".carry"
        restore_from = carry if position > 0 else None  # never a previous run's state
        parts = [RUNTIME, f"_sp_restore(globals(), {restore_from!r})\n"] + parts
        parts.append(f"_sp_save(globals(), {state_path if last else carry!r}, "
                     f"warn={not last}, final={last})\n")
    header = list(dict.fromkeys(futures))
    return "\n".join(header + parts)
