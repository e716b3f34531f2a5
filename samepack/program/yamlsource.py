"""YAML documents that remember where each value came from.

PyYAML's composer gives nodes with marks; we turn them into plain Python values and keep, for
every path (a tuple of keys and list indexes), the 1-based line it starts on and the tag it had
(AME's ``!poetry`` executors are tags). Loaders use the line map to say
``same.yaml:14: steps.train.needs: ...``.

Every size a hostile file controls is bounded here, in the one reader all program formats
use: the file's bytes, the nesting depth, the aliases, the values the document expands to
(aliases are expanded: an alias bomb is a few hundred bytes), and the digits of an integer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from samepack.errors import InputError

PathKey = tuple[Any, ...]

MAX_FILE_BYTES = 8 * 1024 * 1024  # program files are a few kB; notebooks' YAML cells less
MAX_DEPTH = 64
MAX_ALIASES = 1000
MAX_VALUES = 200_000  # every value of the expanded document, aliases counted each time


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe composer with the depth and alias count bounded (its composer recurses
    once per level, so an unbounded depth ends in RecursionError)."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = self._aliases = 0

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Bound(self.peek_event().start_mark,
                             f"has more than {MAX_ALIASES} aliases (*name)")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Bound(self.peek_event().start_mark,
                             f"is nested more than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Bound(Exception):
    def __init__(self, mark, what: str) -> None:
        super().__init__(what)
        self.line, self.what = (mark.line + 1 if mark else 1), what


@dataclass
class Source:
    """A parsed document: its data, the line of every path, the explicit tag of every path."""

    file: str  # the name shown in messages (the file's name, not its full path)
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)
    tags: dict[PathKey, str] = field(default_factory=dict)
    # The text of plain scalars YAML reads as numbers: ``pythonVersion: 3.10`` is the float 3.1
    # but the user wrote 3.10 (see ``text``).
    numbers: dict[PathKey, str] = field(default_factory=dict)

    def text(self, path: PathKey, value: Any) -> str:
        """``value`` as the user wrote it (a version written as a number keeps its digits)."""
        return self.numbers.get(tuple(path), str(value)) if isinstance(value, (int, float)) \
            and not isinstance(value, bool) else str(value)

    def line(self, path: PathKey) -> int:
        """Line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def error(self, path: PathKey, message: str, hint: str | None = None) -> InputError:
        """An InputError ``FILE:LINE: field.path: message``."""
        where = dotted(path)
        prefix = f"{self.file}:{self.line(path)}: "
        return InputError(prefix + (f"{where}: {message}" if where else message), hint)


def dotted(path: PathKey) -> str:
    """``("steps", "train", "needs", 0)`` -> ``steps.train.needs[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_SCALAR = yaml.SafeLoader("")  # used only to resolve plain scalars (int, float, bool, null)


def _scalar(node: yaml.ScalarNode) -> Any:
    if node.tag.startswith("tag:yaml.org,2002:"):
        return _SCALAR.construct_object(node, deep=True)
    implicit = _SCALAR.resolve(yaml.ScalarNode, node.value, (True, False))
    return _SCALAR.construct_object(yaml.ScalarNode(implicit, node.value, style=node.style))


def _convert(node: yaml.Node, path: PathKey, source: Source, budget: list[int]) -> Any:
    source.lines[path] = node.start_mark.line + 1
    budget[0] -= 1
    if budget[0] < 0:
        raise _Bound(node.start_mark, f"expands to more than {MAX_VALUES} values "
                                      "(aliases are expanded each time they are used)")
    if not node.tag.startswith("tag:yaml.org,2002:"):
        source.tags[path] = node.tag.lstrip("!")
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = (_checked_scalar(key_node) if isinstance(key_node, yaml.ScalarNode)
                   else str(key_node.value)[:200])
            key = key if isinstance(key, (str, int)) else str(key)
            if key in result:
                source.lines[path + (key,)] = key_node.start_mark.line + 1
                raise source.error(path + (key,), "duplicate key")
            result[key] = _convert(value_node, path + (key,), source, budget)
            source.lines[path + (key,)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (index,), source, budget)
                for index, item in enumerate(node.value)]
    value = _checked_scalar(node)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        source.numbers[path] = node.value
    return value


def _checked_scalar(node: yaml.ScalarNode) -> Any:
    try:
        return _scalar(node)
    except ValueError as error:  # an integer past Python's 4,300-digit limit, a bad timestamp
        raise _Bound(node.start_mark, f"holds a value that cannot be read ({node.value[:20]!r}"
                                      f"..., {len(node.value)} characters: {str(error)[:60]})") from None


def parse_yaml(text: str, file: str) -> Source:
    """Parse one YAML document; a syntax error becomes ``FILE:LINE: invalid YAML: ...``."""
    source = Source(file=file, data=None)
    try:
        node = yaml.compose(text, Loader=_BoundedLoader)
        source.data = None if node is None else _convert(node, (), source, [MAX_VALUES])
    except _Bound as bound:
        raise InputError(f"{file}:{bound.line}: the document {bound.what}",
                         "samepack reads small YAML documents; remove the repetition") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise InputError(f"{file}:{line}: invalid YAML: {error.problem or error}",
                         "fix the YAML syntax at that line") from None
    except yaml.YAMLError as error:
        raise InputError(f"{file}:1: invalid YAML: {error}") from None
    return source


def load_bounded(path: Path) -> Any:
    """The plain data of a YAML file from outside (a bundle's lock file, say), read with the
    same bounds as program files: ``yaml.safe_load`` expands every alias of a bomb."""
    return read_yaml(path).data


def read_yaml(path: Path, raw: bytes | None = None) -> Source:
    """Read and parse a YAML file (errors name the file); ``raw``: its bytes, already read."""
    try:
        if raw is None:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_FILE_BYTES + 1)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read: {error}", "check the path") from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(f"{path.name}: over {MAX_FILE_BYTES // (1024 * 1024)} MiB, too large "
                         "for a program file", "a program file is a small document; keep "
                         "data and code in their own files")
    return parse_yaml(text, path.name)
