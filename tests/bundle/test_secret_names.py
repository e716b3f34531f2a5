"""Credential files are recognised by name, and the quick tests that clear ordinary paths
before the patterns run never clear one of them."""

from __future__ import annotations

import pytest

from samepack.bundle.parts.secrets import _DIR_RULES, _NAME_RULES, secret_by_name


@pytest.mark.parametrize("path, why", [
    (".env", "environment file"), ("app/.env.production", "environment file"),
    ("deploy/.envrc", "environment file"), ("keys/id_ed25519", "SSH private key"),
    ("_netrc", "netrc credentials"), ("home/.netrc", "netrc credentials"),
    ("certs/client.p12", "certificate bundle"), ("certs/client.pfx", "certificate bundle"),
    (".pypirc", "PyPI credentials"), ("a/.git-credentials", "git credentials"),
    (".aws/credentials", "AWS credentials"), ("ops/.aws/config", "AWS configuration"),
    ("ops/.azure/token.json", "Azure credentials"), (".docker/config.json", "registry credentials"),
    ("x/.kube/config", "Kubernetes credentials"), (".ssh/known_hosts", "SSH directory"),
    ("u/.gnupg/pubring.kbx", "GnuPG keyring"), ("config/prod.env", "environment file"),
    ("kaggle.json", "Kaggle credentials"), ("home/.kaggle/kaggle.json", "Kaggle credentials"),
    ("docker/config.json", "registry credentials"), ("ci/docker/config.json", "registry credentials"),
])
def test_credential_files_by_name(path: str, why: str) -> None:
    assert secret_by_name(path) == why


@pytest.mark.parametrize("path", ["main.py", "src/envs.py", "docs/.github/ci.yml", "identity.py",
                                  "a/.aws_notes.md", "data/p12.csv", ".dockerignore"])
def test_ordinary_files_pass(path: str) -> None:
    assert secret_by_name(path) is None


def test_every_rule_gets_past_the_quick_tests() -> None:
    """A rule added later must still reach the patterns (see secret_by_name)."""
    for pattern, _ in _NAME_RULES:
        assert pattern[:1] in "._ik" or pattern.endswith((".p12", ".pfx", ".env")), pattern
    for pattern, _ in _DIR_RULES:
        assert pattern.startswith((".", "docker/")), pattern
