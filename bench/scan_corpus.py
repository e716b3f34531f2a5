"""The scan benchmark on real repositories with their declared files removed (issue 14).

For each project of the corpus (``bench/corpus.py`` writes it):

1. what it declares: every requirement file, ``Pipfile``, ``pyproject.toml``, ``setup.cfg``,
   ``setup.py`` and ``environment.yml`` anywhere in the tree, read with samepack's parsers;
2. what its code imports: the top-level names of every import statement, by a plain ``ast``
   walk of each ``.py`` file and notebook cell (independent of samepack's scanner);
3. truth T = declared runtime distributions whose import names (installed metadata, then the
   shipped table, then the name itself) appear among the imports: "declared and imported"
   (the project's own distribution is not among them, see ``declarations``);
   R = the same over every declaration group (dev and test too); K = R plus the
   distributions this machine's installed metadata says provide one of the imports (real
   third-party imports the project forgot to declare);
4. the declared files are deleted from a copy, and samepack (``scan --format requirements``:
   what ``package-env`` would lock) and pipreqs (``--use-local``; and pipreqs*, its names before
   that local lookup) run on the copy.

recall = |P ∩ T| / |T|; strict precision = |P ∩ R| / |P|; precision = |P ∩ K| / |P|, summed
over the corpus. Strict precision counts every undeclared name as wrong (a lower bound);
precision still counts against a tool the project's own modules, Python 2 modules and
install-only names, and real imports of packages not installed here.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DECLARATION_NAMES = ("Pipfile", "Pipfile.lock", "pyproject.toml", "setup.py", "setup.cfg",
                     "environment.yml", "environment.yaml", "conda.yaml", "conda.yml",
                     "poetry.lock", "uv.lock", "pylock.toml")
_REQUIREMENTS = re.compile(r"(^requirements.*|.*requirements)\.(txt|in)$", re.IGNORECASE)
SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", "node_modules"}


def is_declaration(path: Path) -> bool:
    return path.name in DECLARATION_NAMES or bool(_REQUIREMENTS.match(path.name)) or \
        "requirements" in path.parent.name.lower() and path.suffix in (".txt", ".in")


def _files(root: Path):
    for path in sorted(root.rglob("*")):
        if path.is_file() and not SKIP_DIRS & set(path.relative_to(root).parts):
            yield path


def declarations(root: Path) -> tuple[set[str], set[str]]:
    """(runtime names, names of every group) declared anywhere in the tree, less the project
    itself (``own_distributions``, ``installs_itself``): a notebook's ``!pip install
    git+https://github.com/openai/CLIP.git`` in CLIP's own tree is no dependency of CLIP."""
    from samepack.scan import scan_project

    runtime, every = set(), set()
    own = own_distributions(root)
    folders = sorted({p.parent for p in _files(root) if is_declaration(p)})
    for folder in folders:  # each folder holding declarations is read as a project of its own
        scan = scan_project(folder, "3.11", use_installed=False)
        for declared in scan.declared:
            if declared.ecosystem == "conda" and declared.name in ("python", "pip"):
                continue
            if declared.name in own or installs_itself(declared.requirement, root.name):
                continue
            every.add(declared.name)
            if declared.group in (None, "notebook"):
                runtime.add(declared.name)
    return runtime, every


def own_distributions(root: Path) -> set[str]:
    """The project's own distribution names: ``[project].name`` of its root pyproject.toml and
    the literal ``name=`` of its root setup.py (LoRA's examples declare ``loralib``, which is
    LoRA itself)."""
    import tomllib

    names = set()
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
        if isinstance(project.get("name"), str):
            names.add(canonicalize_name(project["name"]))
    except (OSError, ValueError):
        pass
    try:
        tree = ast.parse((root / "setup.py").read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        tree = None
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.keyword) and node.arg == "name" and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            names.add(canonicalize_name(node.value.value))
    return names


def installs_itself(requirement: str, project: str) -> bool:
    """Whether a requirement installs the corpus project (``owner+name``) from its own GitHub
    repository."""
    owner, _, name = project.partition("+")
    return bool(name) and re.search(rf"github\.com[/:]{re.escape(owner)}/{re.escape(name)}(?:\.git)?(?:[@#/\s]|$)",
                                    requirement, re.IGNORECASE) is not None


def imported_tops(root: Path) -> set[str]:
    """Top-level names of absolute imports in every .py file and notebook cell."""
    tops: set[str] = set()
    for path in _files(root):
        if path.suffix == ".py":
            sources = [path.read_text(encoding="utf-8", errors="replace")]
        elif path.suffix == ".ipynb":
            sources = _cells(path)
        else:
            continue
        for source in sources:
            try:
                tree = ast.parse(source)
            except (SyntaxError, ValueError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    tops |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    tops.add(node.module.split(".")[0])
    return tops


def _cells(path: Path) -> list[str]:
    try:
        document = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except ValueError:
        return []
    cells = document.get("cells") or [c for w in document.get("worksheets", []) for c in w.get("cells", [])]
    found = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", cell.get("input", ""))
        text = "".join(source) if isinstance(source, list) else str(source)
        found.append("\n".join(line for line in text.splitlines()
                               if not line.lstrip().startswith(("!", "%", "?"))))
    return found


@lru_cache(maxsize=1)
def _import_names_by_distribution() -> dict[str, set[str]]:
    from importlib import metadata

    names: dict[str, set[str]] = {}
    for top, dists in metadata.packages_distributions().items():
        for dist in dists:
            names.setdefault(canonicalize_name(dist), set()).add(top)
    table = json.loads((REPO / "samepack" / "data" / "import_map.json").read_text())["modules"]
    for module, dist in table.items():
        if dist:
            names.setdefault(canonicalize_name(dist), set()).add(module.split(".")[0])
    return names


def import_names(distribution: str) -> set[str]:
    return _import_names_by_distribution().get(distribution, set()) | {distribution.replace("-", "_")}


@dataclass
class CorpusProject:
    project: str
    truth: list[str]  # declared runtime and imported
    acceptable: list[str]  # declared in any group and imported
    known: list[str]  # acceptable, plus installed distributions providing an import
    samepack: list[str]
    pipreqs: list[str]
    pipreqs_candidates: list[str]
    pipreqs_ok: bool
    third_party: list[str] = field(default_factory=list)  # import_truth: third-party imports
    declared: list[str] = field(default_factory=list)  # every declared distribution


def strip_declarations(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    for path in list(_files(target)):
        if is_declaration(path):
            path.unlink()
    return target


def measure(project: Path, scratch: Path, run_samepack, run_pipreqs) -> CorpusProject:
    runtime, every = declarations(project)
    tops = imported_tops(project)
    truth = sorted(d for d in runtime if import_names(d) & tops)
    acceptable = sorted(d for d in every if import_names(d) & tops)
    known = sorted(set(acceptable) | installed_providers(tops))
    copy = strip_declarations(project, scratch / project.name)
    ours = run_samepack(copy)
    theirs = run_pipreqs(copy)
    import import_truth

    third_party = import_truth.third_party_imports(tops, import_truth.own_modules(project, _files),
                                                   every)
    return CorpusProject(project.name, truth, acceptable, known, ours.names, theirs.names,
                         theirs.candidates, theirs.ok, sorted(third_party), sorted(every))


def import_precision(results: list[CorpusProject], attribute: str) -> tuple[float | None, ...]:
    """(precision, precision among checkable names): the share of predicted names that provide
    a third-party import of their project, each checked against the distribution's own files
    (bench/import_truth.py); the first counts names no file here can check as wrong (a lower
    bound), the second leaves them out."""
    import import_truth

    predicted = right = wrong = 0
    for r in results:
        names = getattr(r, attribute)
        good, bad, _ = import_truth.judge(names, set(r.third_party), set(r.declared))
        predicted, right, wrong = predicted + len(names), right + len(good), wrong + len(bad)
    return (right / predicted if predicted else None,
            right / (right + wrong) if right + wrong else None)


def audit(results: list[CorpusProject], attribute: str) -> list[str]:
    """Per project, the predicted names import_precision counts against the tool."""
    import import_truth

    lines = []
    for r in results:
        _, wrong, unverified = import_truth.judge(getattr(r, attribute), set(r.third_party),
                                                  set(r.declared))
        if wrong or unverified:
            lines.append(f"  {r.project}: provides no third-party import {wrong or '-'}; "
                         f"unverified (no file of it found here or on PyPI) {unverified or '-'}")
    return lines


def installed_providers(tops: set[str]) -> set[str]:
    """Distributions installed here that provide one of the imported top-level names."""
    from importlib import metadata

    provided = metadata.packages_distributions()
    return {canonicalize_name(d) for top in tops for d in provided.get(top, [])}


def totals(results: list[CorpusProject], attribute: str) -> tuple[float | None, ...]:
    """(recall, strict precision, precision) of one tool over the whole corpus."""
    def share(hits: int, total: int) -> float | None:
        return hits / total if total else None

    predicted = sum(len(getattr(r, attribute)) for r in results)
    return (share(sum(len(set(getattr(r, attribute)) & set(r.truth)) for r in results),
                  sum(len(r.truth) for r in results)),
            share(sum(len(set(getattr(r, attribute)) & set(r.acceptable)) for r in results), predicted),
            share(sum(len(set(getattr(r, attribute)) & set(r.known)) for r in results), predicted))


def report(results: list[CorpusProject]) -> str:
    def fmt(value: float | None) -> str:
        return "  n/a" if value is None else f"{value:5.3f}"

    tools = (("samepack", "samepack"), ("pipreqs", "pipreqs"), ("pipreqs*", "pipreqs_candidates"))
    rows = [f"{'project':<36}{'truth':>6}" + "".join(f"{name + ' R/Ps/P':>24}" for name, _ in tools)]
    for label, subset in [(r.project, [r]) for r in results] + [("corpus", results)]:
        cells = ["/".join(fmt(v) for v in totals(subset, attribute)).rjust(24)
                 for _, attribute in tools]
        rows.append(f"{label:<36}{sum(len(r.truth) for r in subset):>6}" + "".join(cells))
    rows.append("(R = recall of declared-and-imported packages; Ps = strict precision, share of "
                "predicted names the project declares and imports; P = precision, declared or "
                "installed here for an import; declared files removed before the tools ran)")
    misses = []
    for r in results:
        missed = sorted(set(r.truth) - set(r.samepack))
        wrong = sorted(set(r.samepack) - set(r.known))
        if missed or wrong:
            misses.append(f"  {r.project}: samepack missed {missed or '-'}; "
                          f"neither declared nor installed {wrong or '-'}")
    rows.append("")
    rows.append("precision against the imports (predicted names that provide a third-party "
                "import of the project, checked against each distribution's own files):")
    for name, attribute in tools:
        lower, checked = import_precision(results, attribute)
        rows.append(f"  {name:<10} recall {fmt(totals(results, attribute)[0])}  precision "
                    f"{fmt(lower)} (unverified counted wrong)  {fmt(checked)} (checkable names)")
    for name, attribute in tools[:2]:
        rows += [f"{name} false positives:"] + (audit(results, attribute) or ["  none"])
    return "\n".join(rows + (["samepack details:"] + misses if misses else []))
