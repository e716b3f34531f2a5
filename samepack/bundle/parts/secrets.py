"""Files that must never enter a bundle: credentials by name, and text holding tokens or
private keys by content. Detection returns the reason, or None.

One rule set for every part: the code part drops the files it matches, the program, env and
infra parts refuse the export, and the values samepack writes itself (run parameters, metric
names, data-set URIs) are redacted (``redact``)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from fnmatch import fnmatch, translate
from pathlib import Path

SCAN_LIMIT = 1024 * 1024  # content is scanned whole for files up to this size
LARGE_SCAN_LIMIT = 64 * 1024 * 1024  # larger text files are scanned in windows up to this
_WINDOW, _OVERLAP = 4 * 1024 * 1024, 64 * 1024

_NAME_RULES: list[tuple[str, str]] = [
    (".env", "environment file"), (".env.*", "environment file"), (".envrc", "environment file"),
    ("*.env", "environment file"), ("kaggle.json", "Kaggle credentials"),
    ("id_rsa", "SSH private key"), ("id_dsa", "SSH private key"),
    ("id_ecdsa", "SSH private key"), ("id_ed25519", "SSH private key"),
    (".netrc", "netrc credentials"), ("_netrc", "netrc credentials"),
    (".pypirc", "PyPI credentials"), (".git-credentials", "git credentials"),
    (".npmrc", "npm credentials"), ("*.p12", "certificate bundle"), ("*.pfx", "certificate bundle"),
]
_DIR_RULES: list[tuple[str, str]] = [
    (".aws/credentials", "AWS credentials"), (".aws/config", "AWS configuration"),
    (".azure/*", "Azure credentials"), (".docker/config.json", "registry credentials"),
    ("docker/config.json", "registry credentials"), (".kaggle/*", "Kaggle credentials"),
    (".kube/config", "Kubernetes credentials"), (".ssh/*", "SSH directory"),
    (".gnupg/*", "GnuPG keyring"),
]
_CONTENT_RULES: list[tuple[re.Pattern[bytes], str]] = [
    (re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"), "private key block"),
    (re.compile(rb"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "AWS access key id"),
    (re.compile(rb"\bgh[pousr]_[A-Za-z0-9]{36,}\b"), "GitHub token"),
    (re.compile(rb"\bgithub_pat_[A-Za-z0-9_]{60,}\b"), "GitHub token"),
    (re.compile(rb"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "Slack token"),
    (re.compile(rb"\bglpat-[A-Za-z0-9_-]{20,}"), "GitLab token"),
    (re.compile(rb"\bsk_live_[A-Za-z0-9]{20,}"), "Stripe key"),
    (re.compile(rb"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"), "OpenAI API key"),
    (re.compile(rb"\bhf_[A-Za-z0-9]{30,}\b"), "Hugging Face token"),
    (re.compile(rb"(?i)\baws_secret_access_key\b[\"']?\s*[=:]\s*[\"']?[A-Za-z0-9/+]{40}"),
     "AWS secret access key"),
    (re.compile(rb"\b(?:WANDB_API_KEY|OPENAI_API_KEY|HF_TOKEN|HUGGING_FACE_HUB_TOKEN|KAGGLE_KEY"
                rb"|COMET_API_KEY|NEPTUNE_API_TOKEN)[\"']?\s*[=:]\s*[\"']?[A-Za-z0-9_.\-]{20,}"),
     "API key assignment"),
    # user:password@ in a URL (an index URL, a database URL); ${VAR} and <placeholders> pass
    (re.compile(rb"\b[a-z][a-z0-9+.\-]*://[^\s:/@'\"]+:(?![${<%*])[^\s@/'\"]+@[^\s/'\"]+"),
     "password in a URL"),
]


# Substrings one of the content rules needs: files without any skip the regular expressions.
# Plain substring tests run at memory speed; one alternation regex costs several times more.
_LITERAL_TRIGGERS = (b"PRIVATE KEY", b"AKIA", b"ASIA", b"xox", b"glpat-", b"sk_live_", b"sk-",
                     b"hf_", b"ecret_access_key", b"ECRET_ACCESS_KEY", b"_API_KEY",
                     b"_TOKEN", b"KAGGLE_KEY")
_GITHUB_TRIGGER = re.compile(rb"gh[pousr]_|github_pat_")
_ANY_NAME = re.compile("|".join(f"(?:{translate(p)})" for p, _ in _NAME_RULES))
_ANY_DIR = re.compile("|".join(f"(?:{translate(p)})|(?:{translate('*/' + p)})"
                               for p, _ in _DIR_RULES))


def rules_digest() -> str:
    """Names the content rules, so that a record of bytes that passed them lapses when they
    change."""
    import hashlib

    text = repr(([(p.pattern, why) for p, why in _CONTENT_RULES], _LITERAL_TRIGGERS,
                 _GITHUB_TRIGGER.pattern, SCAN_LIMIT, _KUBECONFIG_RULE))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def secret_by_name(path: str) -> str | None:
    """Why a project-relative POSIX path names a credential file, or None."""
    name = path.rpartition("/")[2]
    # Every name rule starts with ".", "_", "i" or "k", or ends .p12/.pfx/.env; every folder
    # rule has a folder starting with "." or named docker: most paths are cleared by these
    # two tests alone (tests/bundle/test_secret_names.py keeps new rules inside them).
    if ((name[:1] in "._ik" or name.endswith(_NAME_ENDINGS)) and name
            and _ANY_NAME.match(name)):
        return next(why for pattern, why in _NAME_RULES if fnmatch(name, pattern))
    if (path[:1] == "." or "/." in path or "docker/" in path) and _ANY_DIR.match(path):
        return next(why for pattern, why in _DIR_RULES
                    if fnmatch(path, pattern) or fnmatch(path, "*/" + pattern))
    return None


_NAME_ENDINGS = (".p12", ".pfx", ".env")
_KUBECONFIG_RULE = (b"kind: Config", (b"token:", b"client-key-data:", b"password:"))


def _kubeconfig(content: bytes) -> bool:
    """A kubeconfig holding credentials, wherever it lies (not only in ``.kube/``)."""
    kind, keys = _KUBECONFIG_RULE
    return (kind in content and b"users:" in content
            and any(re.search(rb"(?m)^\s*" + re.escape(key) + rb"\s*\S", content)
                    for key in keys))


def _service_account(content: bytes) -> bool:
    if b'"service_account"' not in content or b"private_key" not in content:
        return False
    try:
        data = json.loads(content)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("type") == "service_account"


def _triggered(content: bytes) -> bool:
    return (any(literal in content for literal in _LITERAL_TRIGGERS)
            or _GITHUB_TRIGGER.search(content) is not None
            or (b"://" in content and b"@" in content))


def secret_in_content(path: str, content: bytes, passed_before: bool = False) -> str | None:
    """Why a file's bytes look like a secret (token, key block, service-account key), or None.
    ``passed_before``: these exact bytes passed this check in an earlier export, so only the
    rule that depends on the path (a ``.json`` service-account key) runs again."""
    if path.endswith(".json") and _service_account(content):
        return "GCP service-account key"
    if passed_before:
        return None
    if b"kind: Config" in content and _kubeconfig(content):
        return "Kubernetes credentials (kubeconfig)"
    if not _triggered(content):
        return None
    for pattern, why in _CONTENT_RULES:
        if pattern.search(content):
            return why
    return None


def secret_in_file(path: str, file) -> str | None:
    """``secret_in_content`` for a file over SCAN_LIMIT, read in overlapping windows (a key
    across a window's edge is in the next one); binary files (a NUL in the first window) and
    files over LARGE_SCAN_LIMIT are left to the name rules."""
    if os.path.getsize(file) > LARGE_SCAN_LIMIT:
        return None
    with open(file, "rb") as handle:
        tail = b""
        while block := handle.read(_WINDOW):
            if not tail and b"\0" in block:
                return None
            why = secret_in_content(path, tail + block)
            if why:
                return why
            tail = block[-_OVERLAP:]
    return None


class ContentScreen:
    """``secret_in_content`` of whole files, remembering the contents that passed by digest in
    the same records as the bundle's code part (``screened-<rules>``, :mod:`samepack.cache`),
    so a file that passed in an export or an earlier build is not searched again."""

    def __init__(self) -> None:
        from samepack.cache import DigestSet

        self.known = DigestSet.load(f"screened-{rules_digest()}")
        self._passed: list[bytes] = []

    def check(self, path: str, file: Path) -> str | None:
        """Why the file at ``file`` (``path`` in the project) looks like a secret, or None."""
        if os.path.getsize(file) > SCAN_LIMIT:
            return secret_in_file(path, file)
        content = Path(file).read_bytes()
        digest = hashlib.sha256(content).digest()
        why = secret_in_content(path, content, passed_before=digest in self.known)
        if why is None:
            self._passed.append(digest)
        return why

    def remember(self) -> None:
        """Record what passed (best effort)."""
        self.known.add(self._passed)
        self._passed = []


REDACTED = "[redacted: {}]"


def redact(value, where: str, notes: list[str]):
    """``value`` (JSON data samepack writes: run records, data pointers) with every string that
    holds a secret replaced by ``[redacted: why]``, keys too; each replacement is noted in
    ``notes`` as ``where.path: why``."""
    if isinstance(value, str):
        why = secret_in_content("", value.encode("utf-8", "surrogateescape"))
        if why:
            notes.append(f"{where}: {why}")
            return REDACTED.format(why)
        return value
    if isinstance(value, list):
        return [redact(item, f"{where}[{i}]", notes) for i, item in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = redact(key, f"{where} (a name)", notes) if isinstance(key, str) else key
            if name in out:
                name = f"{name}#{len(out)}"
            out[name] = redact(item, f"{where}.{name}", notes)
        return out
    return value
