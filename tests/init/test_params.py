"""Static parameter extraction: argparse, click, typer, sys.argv and notebook parameter cells."""

from __future__ import annotations

import textwrap

import pytest

from samepack.init.notebook_params import cell_parameters
from samepack.init.params import extract_parameters


def params_of(source: str) -> dict[str, tuple]:
    found = extract_parameters(textwrap.dedent(source))
    return {p.name: (p.type, p.default, p.kind, p.flag, p.choices, p.required, p.help)
            for p in found.params}


ARGPARSE_CASES = [
    ("int with help", 'p.add_argument("--epochs", type=int, default=10, help="passes")',
     {"epochs": ("int", 10, "option", "--epochs", None, False, "passes")}),
    ("float, dashes to underscores", 'p.add_argument("--l1-ratio", type=float, default=0.5)',
     {"l1_ratio": ("float", 0.5, "option", "--l1-ratio", None, False, None)}),
    ("type from default", 'p.add_argument("--lr", default=0.1)',
     {"lr": ("float", 0.1, "option", "--lr", None, False, None)}),
    ("dest wins", 'p.add_argument("-l", "--lr", dest="rate", type=float, default=1e-3)',
     {"rate": ("float", 0.001, "option", "--lr", None, False, None)}),
    ("choices", 'p.add_argument("--opt", choices=["sgd", "adam"], default="adam")',
     {"opt": ("str", "adam", "option", "--opt", ["sgd", "adam"], False, None)}),
    ("store_true is fixed", 'p.add_argument("--fast", action="store_true", help="h")',
     {"fast": ("str", None, "fixed", "--fast", None, False, "h")}),
    ("store_false keeps its dest", 'p.add_argument("--no-shuffle", dest="shuffle", action="store_false")',
     {"shuffle": ("str", None, "fixed", "--no-shuffle", None, False, None)}),
    ("BooleanOptionalAction", 'p.add_argument("--cache", action=argparse.BooleanOptionalAction, default=True)',
     {"cache": ("str", "--cache", "switch", "--cache", ["--no-cache", "--cache"], False, None)}),
    ("positional", 'p.add_argument("data")',
     {"data": ("str", None, "positional", None, None, True, None)}),
    ("optional positional", 'p.add_argument("out", nargs="?", default="out.csv")',
     {"out": ("str", "out.csv", "positional", None, None, False, None)}),
    ("required option", 'p.add_argument("--data", required=True)',
     {"data": ("str", None, "option", "--data", None, True, None)}),
    ("path type", 'p.add_argument("--out", type=pathlib.Path, default="o")',
     {"out": ("path", "o", "option", "--out", None, False, None)}),
    ("module constant default", 'p.add_argument("--seed", type=int, default=SEED)',
     {"seed": ("int", 42, "option", "--seed", None, False, None)}),
    ("negative default", 'p.add_argument("--shift", type=float, default=-1.5)',
     {"shift": ("float", -1.5, "option", "--shift", None, False, None)}),
    ("nargs list is fixed", 'p.add_argument("--sizes", type=int, nargs="+", default=[1, 2])',
     {"sizes": ("int", [1, 2], "fixed", "--sizes", None, False, None)}),
    ("computed default left empty", 'p.add_argument("--home", default=os.getcwd())',
     {"home": ("str", None, "option", "--home", None, False, None)}),
    ("help and version skipped", 'p.add_argument("--version", action="version", version="1")', {}),
]


@pytest.mark.parametrize("source,expected", [c[1:] for c in ARGPARSE_CASES],
                         ids=[c[0] for c in ARGPARSE_CASES])
def test_argparse(source: str, expected: dict) -> None:
    script = f"import argparse, os, pathlib\nSEED = 42\np = argparse.ArgumentParser()\n{source}\n"
    assert params_of(script) == expected


def test_argparse_counts_are_reported_not_guessed() -> None:
    found = extract_parameters('import argparse\np = argparse.ArgumentParser()\n'
                               'p.add_argument("-v", action="count", default=0)\n')
    assert found.params == [] and "count" in found.notes[0]


def test_click() -> None:
    source = '''
    import click

    @click.command()
    @click.option("--alpha", "-a", type=float, default=0.5, help="strength")
    @click.option("--mode", type=click.Choice(["fast", "slow"]), default="fast")
    @click.option("--shout/--no-shout", default=False)
    @click.option("--dry", is_flag=True)
    @click.option("--out", type=click.Path(), default="model.bin")
    @click.argument("data")
    def main(alpha, mode, shout, dry, out, data):
        pass
    '''
    assert params_of(source) == {
        "alpha": ("float", 0.5, "option", "--alpha", None, False, "strength"),
        "mode": ("str", "fast", "option", "--mode", ["fast", "slow"], False, None),
        "shout": ("str", "--no-shout", "switch", "--shout", ["--no-shout", "--shout"], False, None),
        "dry": ("str", None, "fixed", "--dry", None, False, None),
        "out": ("path", "model.bin", "option", "--out", None, False, None),
        "data": ("str", None, "positional", None, None, True, None),
    }


def test_typer() -> None:
    source = '''
    from pathlib import Path
    from typing import Annotated
    import typer

    app = typer.Typer()

    @app.command()
    def train(data: Path, epochs: int = 10, lr: float = typer.Option(0.01, help="rate"),
              name: Annotated[str, typer.Option(help="label")] = "run",
              verbose: bool = False):
        pass
    '''
    assert params_of(source) == {
        "data": ("path", None, "positional", None, None, True, None),
        "epochs": ("int", 10, "option", "--epochs", None, False, None),
        "lr": ("float", 0.01, "option", "--lr", None, False, "rate"),
        "name": ("str", "run", "option", "--name", None, False, "label"),
        "verbose": ("str", "--no-verbose", "switch", "--verbose", ["--no-verbose", "--verbose"],
                    False, None),
    }


def test_typer_run() -> None:
    source = "import typer\ndef main(count: int = 3):\n    pass\ntyper.run(main)\n"
    assert params_of(source) == {"count": ("int", 3, "option", "--count", None, False, None)}


def test_sys_argv_mlflow_idiom() -> None:
    source = '''
    import sys
    if __name__ == "__main__":
        alpha = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
        epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
        path = sys.argv[3]
    '''
    assert params_of(source) == {
        "alpha": ("float", 0.5, "positional", None, None, False, None),
        "epochs": ("int", 3, "positional", None, None, False, None),
        "path": ("str", None, "positional", None, None, True, None),
    }


def test_nothing_declared_and_broken_files() -> None:
    assert extract_parameters("print('hi')\n").params == []
    broken = extract_parameters("def broken(:\n", "bad.py")
    assert broken.params == [] and "bad.py does not parse" in broken.notes[0]


def test_notebook_parameters_cell() -> None:
    cell = "alpha = 0.5  # regularisation\nepochs: int = 3\nname = 'x'\nfast = True\ncomputed = f(1)\n"
    found = {p.name: (p.type, p.default, p.help) for p in cell_parameters(cell)}
    assert found == {"alpha": ("float", 0.5, "regularisation"), "epochs": ("int", 3, None),
                     "name": ("str", "x", None), "fast": ("bool", True, None)}


def test_run_fragments_pass_every_parameter() -> None:
    found = extract_parameters('import argparse\np = argparse.ArgumentParser()\n'
                               'p.add_argument("data")\np.add_argument("--lr", type=float)\n'
                               'p.add_argument("--fast", action="store_true")\n'
                               'p.add_argument("--cache", action=argparse.BooleanOptionalAction)\n'
                               'p.add_argument("--rate", type=float, default=0.1)\n')
    # --lr has no default and is not required: one word, left out while unset
    assert [p.cli_fragment() for p in found.passed] == [
        "{params.data}", "--lr={params.lr}", "{params.cache}", "--rate {params.rate}"]
    assert [p.name for p in found.passed if p.optional] == ["lr"]
    assert [p.name for p in found.fixed] == ["fast"]
    assert found.messages() == ["line 5: --fast is a switch (action=store_true); not a parameter "
                                "(the script's default applies; add it to the step's run line to "
                                "change it)"]
