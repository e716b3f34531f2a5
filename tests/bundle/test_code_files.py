"""Which files of a project outside git are code: what runs made (recorded outputs, tracking
stores, Hydra run folders) and credential files are left out with their reason, decided on a
real tree."""

from __future__ import annotations

import subprocess
from pathlib import Path

from samepack.bundle.parts.code import collect_code, collect_tree

FILES = [
    "train.py", "src/model.py", "src/pkg/util.py", "model.txt",
    "mlflow.db", "src/mlflow.db-wal", "mlruns/0/meta.yaml", "a/wandb/run-1/files/config.yaml",
    "outputs/2026-12-02/10-11-12/.hydra/config.yaml", "outputs/2026-12-02/10-11-12/train.log",
    "outputs/2026-12-02/10-11-12/sub/deep.txt", "outputs/2026-12-02/10-11-12/mlflow.db",
    "outputs/notes.md", "outputs/2026-12-02/10-11-120.txt",
    # a folder whose name merely ends in .hydra is not Hydra's; the real .hydra/ is deeper
    "exp.hydra/run/.hydra/config.yaml", "exp.hydra/run/log.txt", "exp.hydra/keep.py", "exp.py",
    # a .hydra/ at the project's root does not make the whole project a run folder
    ".hydra/config.yaml",
    ".env", "keys/.ssh/id_rsa", "conf/kaggle.json", "src/envs.py",
]


def make(root: Path, paths: list[str]) -> None:
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(path)


def test_made_by_runs_and_credentials_are_left_out_with_their_reason(tmp_path: Path) -> None:
    make(tmp_path, FILES)
    files = collect_code(tmp_path, frozenset({"model.txt", "src/model.py"}))
    assert files.git is None
    assert files.paths == sorted(["train.py", "src/pkg/util.py", "outputs/notes.md",
                                  "outputs/2026-12-02/10-11-120.txt", "exp.hydra/keep.py",
                                  "exp.py", ".hydra/config.yaml", "src/envs.py"])
    reasons = dict(files.skipped)
    assert set(reasons) | set(files.paths) == set(FILES)
    output, tracking = "a recorded output of a run", "a tracking store (its runs travel in the run history)"
    hydra = "a Hydra run folder"
    assert reasons["model.txt"] == reasons["src/model.py"] == output
    for path in ("mlflow.db", "src/mlflow.db-wal", "mlruns/0/meta.yaml",
                 "a/wandb/run-1/files/config.yaml", "outputs/2026-12-02/10-11-12/mlflow.db"):
        assert reasons[path] == tracking, path
    for path in ("outputs/2026-12-02/10-11-12/.hydra/config.yaml",
                 "outputs/2026-12-02/10-11-12/train.log", "outputs/2026-12-02/10-11-12/sub/deep.txt",
                 "exp.hydra/run/.hydra/config.yaml", "exp.hydra/run/log.txt"):
        assert reasons[path] == hydra, path
    assert reasons[".env"] == "environment file"
    assert reasons["keys/.ssh/id_rsa"] == "SSH private key"
    assert reasons["conf/kaggle.json"] == "Kaggle credentials"


def test_in_git_only_credentials_are_left_out(tmp_path: Path) -> None:
    make(tmp_path, ["main.py", "mlruns/0/meta.yaml", ".env", "untracked.py"])
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "main.py", "mlruns", ".env"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    files = collect_code(tmp_path, frozenset({"main.py"}))
    assert files.git is not None and not files.git.dirty
    assert files.paths == ["main.py", "mlruns/0/meta.yaml"]  # git tracks them: code
    assert files.skipped == [(".env", "environment file")]


def test_an_imported_tree_keeps_its_files_but_not_what_runs_made(tmp_path: Path) -> None:
    make(tmp_path, ["main.py", "mlruns/1/m.yaml", ".venv/lib/x.py"])
    files = collect_tree(tmp_path, frozenset())
    assert files.paths == [".venv/lib/x.py", "main.py"]  # nothing skipped by folder name
    assert dict(files.skipped) == {"mlruns/1/m.yaml": "a tracking store (its runs travel "
                                                      "in the run history)"}


def test_walk_skips_environment_folders_and_gitignored_files(tmp_path: Path) -> None:
    make(tmp_path, ["main.py", ".venv/lib/x.py", "node_modules/a.js", "pkg.egg-info/PKG-INFO",
                    "build/out.bin", "keep/build.py", "notes.log", "sub/notes.log"])
    (tmp_path / ".gitignore").write_text("build/\n*.log\n")
    assert collect_code(tmp_path).paths == [".gitignore", "keep/build.py", "main.py"]
