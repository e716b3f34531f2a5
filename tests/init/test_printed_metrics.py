"""Metric patterns read from the ``name: value`` lines code prints, checked against the lines
that code really prints (the format strings evaluated by Python itself)."""

from __future__ import annotations

import contextlib
import io
import logging
import re

from samepack.init.printed_metrics import GENERAL_PATTERN, propose_metrics

SCRIPT = '''
import logging
log = logging.getLogger("demo")
acc, rmse, loss, name, study_value = 0.93, 1.5e-3, 0.25, "ridge", -2.0
params = {"alpha": 0.5, "l1_ratio": 0.1}
print(f"accuracy: {acc:.3f}")
print("Test RMSE = %s" % rmse)
print("Best value: {} (params: {})".format(study_value, params))
print(f"Epoch 3, val_loss: {loss} acc={acc}")
print(f"model: {name!r}")
print("Running 10 trials...")
print(f"model ({name}, alpha={params['alpha']})")
log.info("loss: %s", loss)
'''


def printed_lines() -> list[str]:
    """What SCRIPT prints (its logging goes to the same stream here)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger("demo").addHandler(handler)
    logging.getLogger("demo").setLevel(logging.INFO)
    try:
        with contextlib.redirect_stdout(stream):
            exec(compile(SCRIPT, "script.py", "exec"), {})
    finally:
        logging.getLogger("demo").removeHandler(handler)
    return stream.getvalue().splitlines()


def read(patterns, lines: list[str]) -> list[tuple[str, float]]:
    points = []
    for line in lines:
        for proposed in patterns:
            match = re.search(proposed.metric.pattern, line)
            if match:
                name = match.groupdict().get("name") or proposed.metric.name
                points.append((name, float(match.group("value"))))
    return points


def test_labelled_values_are_read_from_what_is_printed() -> None:
    proposed = propose_metrics(SCRIPT)
    assert [(p.metric.name, p.line) for p in proposed] == [
        ("accuracy", 6), ("test_rmse", 7), ("best_value", 8), ("val_loss", 9), ("acc", 9),
        ("loss", 13)]
    assert read(proposed, printed_lines()) == [
        ("accuracy", 0.93), ("test_rmse", 1.5e-3), ("best_value", -2.0), ("val_loss", 0.25),
        ("acc", 0.93), ("loss", 0.25)]
    assert proposed[0].text == "accuracy: {}"


def test_a_printed_name_gives_the_general_pattern_once() -> None:
    source = ('for key, value in {"C": 0.5, "degree": 3}.items():\n'
              '    print("    {}: {}".format(key, value))\n'
              'print(f"{key} = {value}")\n'
              'print("  Value: ", 0.97)\n')
    proposed = propose_metrics(source)
    # "  Value:  0.97" is read by the general pattern already: not proposed twice
    assert [(p.metric.pattern, p.metric.name) for p in proposed] == [(GENERAL_PATTERN, None)]
    stream = io.StringIO()
    with contextlib.redirect_stdout(stream):
        exec(source, {})
    assert read(proposed, stream.getvalue().splitlines()) == [
        ("C", 0.5), ("degree", 3.0), ("degree", 3.0), ("Value", 0.97)]


def test_code_that_does_not_parse_proposes_nothing() -> None:
    assert propose_metrics("print('accuracy: %s' % (") == []
    assert propose_metrics("x = 1\nprint(x)\n") == []
