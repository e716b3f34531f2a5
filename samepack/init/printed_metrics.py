"""Metric patterns proposed from the lines a script prints (``init``; the runner applies them).

A call to ``print`` or a logging method whose text is read from the AST -- an f-string,
``"...".format(...)``, ``"..." % (...)`` or several ``print`` arguments -- becomes a sequence
of literal text and values. A value right after ``label:`` or ``label =`` in the literal text
is a metric named after the label (``print(f"accuracy: {acc:.3f}")`` gives
``\\baccuracy\\s*:\\s*(?P<value>...)``, name ``accuracy``); a value after another value and a
``:``/``=`` (``print(f"{key}: {value}")``) gives the general ``name: value`` pattern with a
``name`` group. Nothing is executed; text that is not a literal is left alone.
"""

from __future__ import annotations

import ast
import re
import string
from dataclasses import dataclass

from samepack.init.params import call_name
from samepack.program.model import MetricPattern

NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
NAME = r"[A-Za-z_][\w.\-/]*"
GENERAL_PATTERN = rf"^\s*(?P<name>{NAME})\s*[:=]\s*(?P<value>{NUMBER})\s*$"
MAX_PATTERNS = 12

_LOG_METHODS = {"debug", "info", "warning", "warn", "error", "critical", "exception"}
_LOG_OWNERS = {"logging", "logger", "log", "_logger", "LOGGER", "LOG"}
# The label a literal ends with: words (letters, digits, _ . - /) joined by single spaces,
# after the start or a delimiter, then ":" or "=".
_LABEL = re.compile(r"(?:^|(?<=[\s,;|]))(?P<label>[A-Za-z_][\w.\-/]*(?: [A-Za-z_][\w.\-/]*)*)"
                    r"\s*(?P<sep>[:=])\s*$")
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?"
                      r"(?P<conv>[diouxXeEfFgGcrsa%])")
_VALUE = object()  # a piece of printed text that is a value, not literal text


@dataclass(frozen=True)
class ProposedMetric:
    """A pattern with the line of code it was read from and the text seen there."""

    metric: MetricPattern
    line: int
    text: str  # the printed text as written, values shown as {}


def _format_pieces(template: str) -> list[object] | None:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return None
    pieces: list[object] = []
    for literal_text, field, spec, _conversion in parsed:
        pieces.append(literal_text)
        if field is not None:
            pieces.append(_VALUE if not (spec or "").endswith("s") else "")
    return pieces


def _percent_pieces(template: str) -> list[object]:
    pieces: list[object] = []
    position = 0
    for match in _PERCENT.finditer(template):
        pieces.append(template[position:match.start()])
        if match.group("conv") == "%":
            pieces.append("%")
        else:
            pieces.append(_VALUE if match.group("conv") not in "cra" else "")
        position = match.end()
    pieces.append(template[position:])
    return pieces


def _text_pieces(node: ast.AST) -> list[object] | None:
    """The literal text and values one expression prints, or None when it is not readable."""
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, str) else [_VALUE]
    if isinstance(node, ast.JoinedStr):
        pieces: list[object] = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                pieces.append(part.value)
            elif isinstance(part, ast.FormattedValue):
                spec = ast.unparse(part.format_spec) if part.format_spec else ""
                textual = part.conversion in {ord("r"), ord("s"), ord("a")} or \
                    spec.rstrip("'\"").endswith("s")
                pieces.append("" if textual else _VALUE)
        return pieces
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr == "format" and isinstance(node.func.value, ast.Constant) and \
            isinstance(node.func.value.value, str):
        return _format_pieces(node.func.value.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and \
            isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
        return _percent_pieces(node.left.value)
    return None


def _is_output_call(call: ast.Call) -> bool:
    name = call_name(call)
    if name == "print":
        return True
    owner, _, method = name.rpartition(".")
    return method in _LOG_METHODS and owner.rsplit(".", 1)[-1] in _LOG_OWNERS


def _call_pieces(call: ast.Call) -> list[object] | None:
    """What ``print(a, b, ...)`` or ``logger.info(template, *args)`` writes, as pieces."""
    if call_name(call) != "print":
        if not call.args:
            return None
        first = call.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and len(call.args) > 1:
            return _percent_pieces(first.value)  # logging's lazy %-formatting
        return _text_pieces(first)
    pieces: list[object] = []
    for index, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred):
            return pieces or None
        found = _text_pieces(arg)
        found = [_VALUE] if found is None else found
        if index:
            pieces.append(" ")
        pieces.extend(found)
    return pieces


def _merged(pieces: list[object]) -> list[object]:
    """Adjacent literal texts joined, so each value is preceded by at most one text."""
    merged: list[object] = []
    for piece in pieces:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + piece
        else:
            merged.append(piece)
    return merged


def metric_name(label: str) -> str:
    """``Test accuracy`` -> ``test_accuracy``."""
    return re.sub(r"[^\w.\-/]+", "_", label.strip()).strip("_").lower()


def _labelled(label: str, sep: str, at_start: bool) -> MetricPattern:
    words = r"\s+".join(re.escape(word) for word in label.split())
    anchor = r"^\s*" if at_start else r"\b"
    return MetricPattern(pattern=rf"{anchor}{words}\s*{re.escape(sep)}\s*(?P<value>{NUMBER})",
                         name=metric_name(label))


def _from_pieces(pieces: list[object]) -> list[tuple[MetricPattern, bool]]:
    """Each pattern, and whether the general pattern would read the same line (the whole line
    is ``label: {}`` with a one-word label)."""
    found: list[tuple[MetricPattern, bool]] = []
    for index, piece in enumerate(pieces):
        if piece is not _VALUE or index == 0:
            continue
        before = pieces[index - 1]
        if not isinstance(before, str):
            continue
        if index >= 2 and pieces[index - 2] is _VALUE and re.fullmatch(r"\s*[:=]\s*", before):
            found.append((MetricPattern(pattern=GENERAL_PATTERN), False))
            continue
        match = _LABEL.search(before)
        so_far = "".join(p for p in pieces[:index] if isinstance(p, str))
        if match and so_far.count("(") <= so_far.count(")"):  # not an aside in parentheses
            label = match.group("label")
            at_start = index == 1 and not before[:match.start()].strip()
            rest = pieces[index + 1:]
            whole_line = at_start and re.fullmatch(NAME, label) is not None and \
                all(isinstance(p, str) and not p.strip() for p in rest)
            found.append((_labelled(label, match.group("sep"), at_start), whole_line))
    return found


def _shown(pieces: list[object]) -> str:
    text = "".join("{}" if piece is _VALUE else str(piece) for piece in pieces).strip()
    return text if len(text) <= 60 else text[:57] + "..."


def propose_metrics(source: str) -> list[ProposedMetric]:
    """Patterns for the ``name: value`` lines ``source`` prints, in line order, each once."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    calls = sorted((node for node in ast.walk(tree)
                    if isinstance(node, ast.Call) and _is_output_call(node)),
                   key=lambda call: (call.lineno, call.col_offset))
    found: list[tuple[ProposedMetric, bool]] = []
    seen: set[tuple[str, str | None]] = set()
    for call in calls:
        pieces = _call_pieces(call)
        if not pieces:
            continue
        pieces = _merged(pieces)
        for metric, whole_line in _from_pieces(pieces):
            key = (metric.pattern, metric.name)
            if key not in seen:
                seen.add(key)
                found.append((ProposedMetric(metric, call.lineno, _shown(pieces)), whole_line))
    general = any(p.metric.pattern == GENERAL_PATTERN for p, _ in found)
    # A line the general pattern reads would otherwise count twice.
    kept = [p for p, whole_line in found if not (general and whole_line)]
    return kept[:MAX_PATTERNS]
