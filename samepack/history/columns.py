"""The JSON columns of a run's row (params, artifacts, host, tags), decoded in one place.

samepack writes each as ``json.dumps`` of its value: params and host an object, tags an
object of texts, artifacts an array of objects each with a text ``path``. A row changed by
hand or by another program may hold anything: it is found here, and reported as a
:class:`DamagedRunError` naming the run, the column and the fix.

Many rows are decoded by one ``json.loads`` of their texts joined and their shapes checked
with C-level set and map calls (``decoded_rows``); only when that fails is each row decoded
on its own to find the damaged ones.
"""

from __future__ import annotations

import json
from itertools import chain
from operator import methodcaller
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from samepack.history.damage import DamagedRunError, delete_point, reset_column

JSON_COLUMNS = ("params", "artifacts", "host", "tags")  # in this order wherever rows hold them
_EMPTY = {"params": "{}", "artifacts": "[]", "host": "{}", "tags": "{}"}
_KINDS = {dict: "an object", list: "an array", str: "a string", int: "a number",
          float: "a number", bool: "true or false", type(None): "null"}
_path_of = methodcaller("get", "path")

Hook = Callable[[list[tuple[str, Any]]], dict[str, Any]] | None


def decoded_column(path: Path, run_id: str, column: str, text: Any, hook: Hook = None) -> Any:
    """The value of one JSON column of run ``run_id``, or the :class:`DamagedRunError` saying
    what is wrong with it."""
    if type(text) is not str:  # json.loads would read a blob's bytes: samepack writes text
        raise _damaged(path, run_id, column, f"is not text: {_shown(text)}")
    try:
        value = json.loads(text, object_pairs_hook=hook)
    except (TypeError, ValueError, RecursionError) as error:  # RecursionError: nested too deep
        raise _damaged(path, run_id, column, f"is not JSON ({error}): {_shown(text)}") from None
    problem = _shape_problem(column, value)
    if problem:
        raise _damaged(path, run_id, column, problem)
    return value


def decoded_row(path: Path, run_id: str, texts: Sequence[Any], hook: Hook = None) -> list[Any]:
    """The four JSON columns of one run (``texts`` in ``JSON_COLUMNS`` order)."""
    return [decoded_column(path, run_id, column, text, hook)
            for column, text in zip(JSON_COLUMNS, texts)]


def decoded_rows(path: Path, ids: list[str], texts: list[Sequence[Any]],
                 bad: dict[str, DamagedRunError], hook: Hook = None) -> list[Any]:
    """The JSON columns of the runs ``ids`` (``texts``: each run's four, in ``JSON_COLUMNS``
    order), four values a run. Decoded by one call and shape-checked with set operations when
    every run is as samepack writes it; else each run on its own, a damaged run's four values
    None and its error added to ``bad``."""
    values = _all_at_once(texts, hook)
    if values is not None:
        return values
    values = []
    for run_id, four in zip(ids, texts):
        try:
            values += decoded_row(path, run_id, four, hook)
        except DamagedRunError as error:
            bad.setdefault(run_id, error)
            values += (None,) * 4
    return values


def _all_at_once(texts: list[Sequence[Any]], hook: Hook) -> list[Any] | None:
    """None when a text is unreadable or not of its shape, or the texts joined do not split
    into four values a run."""
    try:
        values = json.loads("[" + ",".join(map(",".join, texts)) + "]", object_pairs_hook=hook)
    except (TypeError, ValueError, RecursionError):
        return None
    if len(values) != 4 * len(texts) or not _shapes_hold(values):
        return None
    return values


def metric_damage(path: Path, points: Iterable[tuple[str, int, str, Any]]
                  ) -> dict[str, DamagedRunError]:
    """The runs whose metric points (``(run_id, seq, name, value)``) hold a value that is
    not a number (samepack stores NaN as the text 'NaN'), each with its first such point."""
    damaged: dict[str, DamagedRunError] = {}
    for run_id, seq, name, value in points:
        try:
            float(value)
        except (TypeError, ValueError):
            if run_id not in damaged:
                damaged[run_id] = DamagedRunError(
                    path, run_id, "metrics", f"point {seq} of {name!r} is not a number: "
                    f"{_shown(value)}", delete_point(path, run_id, seq))
    return damaged


def _shapes_hold(values: list[Any]) -> bool:
    params, artifacts, host, tags = (values[i::4] for i in range(4))
    if not set(map(type, chain(params, host, tags))) <= {dict}:
        return False
    if not set(map(type, artifacts)) <= {list}:
        return False
    entries = list(chain.from_iterable(artifacts))
    if not (set(map(type, entries)) <= {dict} and set(map(type, map(_path_of, entries))) <= {str}):
        return False
    return set(map(type, chain.from_iterable(map(dict.values, tags)))) <= {str}


def _shape_problem(column: str, value: Any) -> str | None:
    wanted = list if column == "artifacts" else dict
    if type(value) is not wanted:
        return f"holds {_KINDS.get(type(value), type(value).__name__)}, not {_KINDS[wanted]}"
    if column == "artifacts":
        for index, entry in enumerate(value):
            if type(entry) is not dict or type(entry.get("path")) is not str:
                return f"entry {index} is not an object with a text path: {_shown(entry)}"
    if column == "tags":
        for name, tag in value.items():
            if type(tag) is not str:
                return f"tag {name!r} holds {_KINDS.get(type(tag), 'a value')}, not a string"
    return None


def _damaged(path: Path, run_id: str, column: str, problem: str) -> DamagedRunError:
    return DamagedRunError(path, run_id, column, problem,
                           reset_column(path, run_id, column, _EMPTY[column]))


def _shown(value: Any, most: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= most else text[:most] + "…"
