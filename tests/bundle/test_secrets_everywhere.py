"""Secrets outside ``code/``: in the program (``env:``), the lock, an index URL, run
parameters and metric names, data-set URIs; and the rule gaps (OpenAI, Hugging Face, AWS
secret keys, kubeconfigs anywhere, ``*.env``, ``docker/config.json``, ``kaggle.json``,
``WANDB_API_KEY=``). Each planted value is looked for in the decompressed bundle bytes."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.bundle.conftest import git, register

GITHUB = "ghp_" + "Zq7w" * 9
OPENAI = "sk-proj-" + "Tq3xR8vLm2Kp9YwB4nJc" * 2
OPENAI_OLD = "sk-" + "Pw6Yh2Lk9Rt4Qs8Vb3Nx" * 2
HUGGING = "hf_" + "KtRvYbWmQpLsNzXcJdGf" * 2
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ4kL8nT2v"
WANDB = "0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6"
KUBE_TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6Ik1" + "x9" * 12
PASSWORD = "Hunter2-idx-Pw"


def bundle_text(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes())


def _export(samepack, out: Path):
    return samepack("export", "program", "-n", "mini", "-o", out)


def _commit(project: Path) -> None:
    git(project, "add", "-f", ".")
    git(project, "commit", "-q", "-m", "change")


@pytest.mark.parametrize("where, why", [
    ("program-env", "GitHub token"), ("lock", "GitHub token"),
    ("index-url", "password in a URL"), ("step-env", "OpenAI API key"),
    ("data-uri", "password in a URL"),
])
def test_secret_in_the_program_or_its_lock_refuses_the_export(mini_project: Path, tmp_path: Path,
                                                              samepack, where: str,
                                                              why: str) -> None:
    program = mini_project / "samepack.yaml"
    text = program.read_text()
    if where == "program-env":
        program.write_text(text + f"env: {{GH_TOKEN: {GITHUB}}}\n")
    elif where == "step-env":
        program.write_text(text.replace('main: {run: "python main.py"}',
                                        f'main: {{run: "python main.py", env: {{K: {OPENAI}}}}}'))
    elif where == "data-uri":
        program.write_text(text.replace("  table: {path: data/table.csv}\n",
                                        "  table: {path: data/table.csv}\n  remote: {uri: "
                                        f"'https://bob:{PASSWORD}@data.example.org/t.csv'}}\n"))
    elif where == "lock":
        (mini_project / "requirements.txt").write_text(f"numpy==1.26.4  # {GITHUB}\n")
    else:
        (mini_project / "requirements.txt").write_text(
            f"--index-url https://alice:{PASSWORD}@pypi.example.org/simple\nnumpy==1.26.4\n")
    _commit(mini_project)
    register(mini_project)
    out = tmp_path / "mini.tgz"
    result = _export(samepack, out)
    assert result.exit_code == 3, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and why in errors[0] and "export refused" in errors[0], errors
    part = "env/requirements.txt" if where in ("lock", "index-url") else "program/samepack.yaml"
    assert part in errors[0]
    assert "Traceback" not in result.stderr
    assert not out.exists() and list(tmp_path.glob("mini.tgz*")) == []
    for value in (GITHUB, OPENAI, PASSWORD):
        assert value not in result.stderr


def test_secrets_in_run_records_are_redacted(mini_project: Path, tmp_path: Path,
                                             samepack) -> None:
    from samepack.history import History

    register(mini_project)
    history = History()
    run_id = history.start_run("mini", "0.1", {"token": GITHUB, "alpha": 0.5})
    history.log_metric(run_id, f"loss-{HUGGING}", 0.25)
    history.log_metric(run_id, "rmse", 0.5)
    # a second record, whose source URL holds a password
    other = history.start_run("mini", "0.1", {"source": f"https://bob:{PASSWORD}@git.example.org/r"})
    history.finish_run(other, "failed")
    history.finish_run(run_id, "succeeded")
    history.close()
    out = tmp_path / "mini.tgz"
    result = _export(samepack, out)
    assert result.exit_code == 0, result.stderr
    text = bundle_text(out)
    for value in (GITHUB, HUGGING, PASSWORD):
        assert value.encode() not in text, value
    assert b"[redacted: GitHub token]" in text and b"[redacted: password in a URL]" in text
    assert b'"alpha":0.5' in text and b"rmse" in text  # the rest of the record is kept
    warnings = [line for line in result.stderr.splitlines() if "redacted" in line]
    assert any("runs.jsonl" in line and "params.token" in line for line in warnings), warnings
    assert any("a name" in line and "Hugging Face token" in line for line in warnings), warnings
    # the redacted bundle is a valid one
    assert samepack("verify", out).exit_code == 0


PLANTED = {
    "notes/openai.py": f"client = OpenAI(api_key='{OPENAI}')\n",
    "notes/openai_old.py": f"KEY = \"{OPENAI_OLD}\"\n",
    "notes/hub.py": f"login(token='{HUGGING}')\n",
    "notes/aws.ini": f"[default]\naws_secret_access_key = {AWS_SECRET}\n",
    "deploy/cluster.yaml": ("apiVersion: v1\nkind: Config\nclusters: []\nusers:\n- name: ci\n"
                            f"  user:\n    token: {KUBE_TOKEN}\n"),
    "config/prod.env": "DB=postgres\n",
    "ci/docker/config.json": '{"auths": {"r.example.org": {"auth": "YWxpY2U6cHc="}}}',
    "kaggle.json": '{"username": "u", "key": "0123abcd0123abcd0123abcd0123abcd"}',
    "scripts/train.sh": f"export WANDB_API_KEY={WANDB}\npython main.py\n",
}


def test_rule_gaps_are_left_out_of_the_code_part(mini_project: Path, tmp_path: Path,
                                                 samepack) -> None:
    for name, text in PLANTED.items():
        (mini_project / name).parent.mkdir(parents=True, exist_ok=True)
        (mini_project / name).write_text(text)
    _commit(mini_project)
    register(mini_project)
    out = tmp_path / "mini.tgz"
    result = _export(samepack, out)
    assert result.exit_code == 0, result.stderr
    text = bundle_text(out)
    for name in PLANTED:
        assert f"left out {name}" in result.stderr, name
        assert f"code/{name}".encode() not in text, name
    for value in (OPENAI, OPENAI_OLD, HUGGING, AWS_SECRET, KUBE_TOKEN, WANDB, "YWxpY2U6cHc=",
                  "0123abcd0123abcd0123abcd0123abcd"):
        assert value.encode() not in text, value
    assert b"code/main.py" in text


def test_a_key_inside_a_large_text_file_is_found(mini_project: Path, tmp_path: Path,
                                                 samepack) -> None:
    """Files over 1 MiB are read in overlapping windows: a key in the middle of one, and a key
    across the edge of the first 4 MiB window of another, are both found."""
    line = b"0.125,0.250,0.375,0.500,label\n"
    middle = line * (40_000) + f"token={GITHUB}\n".encode() + line * 40_000
    edge_at = 4 * 1024 * 1024 - 10
    edge = (line * (edge_at // len(line) + 1))[:edge_at] + f"{HUGGING}\n".encode() + line * 9_000
    (mini_project / "notes").mkdir()
    (mini_project / "notes" / "middle.csv").write_bytes(middle)
    (mini_project / "notes" / "edge.csv").write_bytes(edge)
    (mini_project / "notes" / "clean.csv").write_bytes(line * 80_000)
    _commit(mini_project)
    register(mini_project)
    out = tmp_path / "mini.tgz"
    result = _export(samepack, out)
    assert result.exit_code == 0, result.stderr
    assert "left out notes/middle.csv: GitHub token" in result.stderr
    assert "left out notes/edge.csv: Hugging Face token" in result.stderr
    text = bundle_text(out)
    assert GITHUB.encode() not in text and HUGGING.encode() not in text
    assert b"code/notes/clean.csv" in text
