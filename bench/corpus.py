"""Materialise the scan benchmark's corpus: real public ML repositories at fixed commits
(``bench/corpus.txt``), each written as a plain directory holding its Python sources,
notebooks, declaration files and ``.gitignore`` files (data, images and weights are left out).

    python bench/corpus.py --git-dir-pattern '/work/.mirror/{owner}+{name}/repo' OUT
    python bench/corpus.py --clone OUT        # git clone from GitHub (needs the network)

Then ``python bench/scan.py --corpus OUT``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEEP_SUFFIXES = (".py", ".ipynb", ".txt", ".in", ".toml", ".cfg", ".yml", ".yaml", ".lock")
KEEP_NAMES = ("Pipfile", ".gitignore", "MLproject")
MAX_BYTES = 2_000_000


def corpus_entries(path: Path = HERE / "corpus.txt") -> list[tuple[str, str]]:
    """(owner/name, commit) for every line of the corpus list."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            repo, commit = line.split()
            entries.append((repo, commit))
    return entries


def export(git_dir: Path, commit: str, target: Path) -> int:
    """Write the kept files of ``commit`` under ``target``; returns how many were written.
    Blobs the clone does not hold (large files left out of a partial copy) are skipped."""
    listing = subprocess.run(["git", "--git-dir", str(git_dir), "ls-tree", "-r", "-z", "-l", commit],
                             capture_output=True, check=True).stdout.decode("utf-8", "replace")
    written = 0
    for entry in listing.split("\0"):
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        mode, kind, blob, size = meta.split()
        name = Path(path).name
        if kind != "blob" or mode == "120000" or not size.isdigit() or int(size) > MAX_BYTES:
            continue
        if not (name.endswith(KEEP_SUFFIXES) or name in KEEP_NAMES):
            continue
        data = subprocess.run(["git", "--git-dir", str(git_dir), "cat-file", "blob", blob],
                              capture_output=True)
        if data.returncode:
            continue
        out = target / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data.stdout)
        written += 1
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--git-dir-pattern", help="where each repository's git directory is, "
                        "with {owner} and {name}")
    parser.add_argument("--clone", action="store_true", help="clone each repository from GitHub")
    args = parser.parse_args(argv)
    for repo, commit in corpus_entries():
        owner, name = repo.split("/")
        target = args.out / f"{owner}+{name}"
        with tempfile.TemporaryDirectory(prefix="samepack-corpus-") as scratch:
            if args.clone:
                git_dir = Path(scratch) / "repo.git"
                subprocess.run(["git", "clone", "--bare", "--filter=blob:limit=2m",
                                f"https://github.com/{repo}", str(git_dir)], check=True)
            elif args.git_dir_pattern:
                git_dir = Path(args.git_dir_pattern.format(owner=owner, name=name))
            else:
                parser.error("give --git-dir-pattern or --clone")
            count = export(git_dir, commit, target)
        print(f"{repo}@{commit[:10]}: {count} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
