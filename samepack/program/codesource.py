"""Where a program's code comes from when ``create program -f`` is given more than a file: a git
repository at a revision, or an https archive. The code is fetched into a directory of its own
and pinned: a git source by the full commit it resolved to, an archive by its sha256.

Locations (``parse_location``):

- ``https://host/owner/repo[.git]@REV``, ``…#REF``, ``git+https://…`` (``@REV``/``#REF`` optional):
  cloned, the commit taken from the repository (no ``.git`` is kept, only the committed tree);
- ``DIR@REV`` / ``DIR#REF`` where ``DIR`` is a local git repository: the same, from that folder;
- ``https://…/NAME.tar.gz`` (``.tgz``, ``.tar``, ``.zip``): downloaded, checked and unpacked;
  a single top-level folder (as in GitHub's archives) is stripped;
- ``https://github.com/OWNER/REPO/tree/REF/PATH`` (or ``/blob/REF/PATH/FILE``, or the file's
  ``raw.githubusercontent.com`` URL), as a browser shows a folder of a repository: that
  repository at REF, the project in PATH.

Any of them may end in ``#subdirectory=PATH`` (pip's spelling; after ``#REF``:
``#REF&subdirectory=PATH``): only that folder is the project and comes with the program.

A plain directory or file is not a code source (it is registered where it is).
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import urlparse

from samepack.errors import InputError, RemoteError, ToolMissingError

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
SOURCE_LABEL = "samepack.dev/source"  # the pinned origin, kept in the program (and its exports)
GIT_TIMEOUT_S = 600
MAX_ARCHIVE_BYTES = 4 * 2**30


@dataclass(frozen=True)
class CodeSource:
    kind: Literal["git", "archive"]
    url: str  # clone URL, local repository path, or archive URL
    rev: str | None = None  # the git revision asked for (None: the default branch)
    subdirectory: str | None = None  # the project inside the repository or archive


@dataclass(frozen=True)
class Fetched:
    root: Path  # the code, ready to run in
    pin: str  # ``URL@COMMIT`` or ``URL#sha256=HEX``


def _split_rev(location: str) -> tuple[str, str | None]:
    """``URL@REV`` / ``URL#REF`` -> (URL, REV); an ``@`` before the path (user@host) is not a rev."""
    if "#" in location:
        base, _, ref = location.partition("#")
        return base, ref or None
    scheme, sep, rest = location.partition("://")
    prefix = scheme + sep if sep else ""
    rest = rest if sep else location
    path_start = rest.find("/") if sep else 0
    at = rest.rfind("@")
    if at > max(path_start, 0) and "/" not in rest[at + 1:]:
        return prefix + rest[:at], rest[at + 1:] or None
    return location, None


def _split_subdirectory(location: str) -> tuple[str, str | None]:
    base, sep, fragment = location.partition("#")
    if not sep:
        return location, None
    fields = fragment.split("&")
    sub = next((f.partition("=")[2] for f in fields if f.startswith("subdirectory=")), None)
    rest = "&".join(f for f in fields if not f.startswith("subdirectory="))
    if sub is not None and (PurePosixPath(sub).is_absolute() or ".." in PurePosixPath(sub).parts):
        raise InputError(f"{location}: subdirectory {sub!r} must be a path inside the code",
                         "give it relative to the repository's top level")
    return (f"{base}#{rest}" if rest else base), (sub.strip("/") or None) if sub else None


def _browser_url(url: str) -> CodeSource | None:
    """``https://github.com/O/R/tree/REF/PATH`` (``blob``: a file's folder) or a raw file URL
    ``https://raw.githubusercontent.com/O/R/REF/PATH/FILE`` -> a git source."""
    parsed = urlparse(url)
    parts = [p for p in parsed.path.split("/") if p]
    if parsed.hostname == "raw.githubusercontent.com" and len(parts) >= 4:
        return CodeSource("git", f"https://github.com/{parts[0]}/{parts[1]}", parts[2],
                          "/".join(parts[3:-1]) or None)
    if parsed.hostname not in ("github.com", "gitlab.com") or len(parts) < 4 \
            or parts[2] not in ("tree", "blob"):
        return None
    repo = f"{parsed.scheme}://{parsed.netloc}/{parts[0]}/{parts[1]}"
    inner = parts[4:-1] if parts[2] == "blob" else parts[4:]
    return CodeSource("git", repo, parts[3], "/".join(inner) or None)


def parse_location(location: str) -> CodeSource | None:
    """The code source ``location`` names, or None for a plain file, folder or YAML URL."""
    git_prefixed = location.startswith("git+")
    text, sub = _split_subdirectory(location[4:] if git_prefixed else location)
    scheme = urlparse(text).scheme
    if scheme in ("http", "https", "ssh", "git", "file"):
        browsed = _browser_url(text)
        if browsed is not None:
            return CodeSource("git", browsed.url, browsed.rev, sub or browsed.subdirectory)
        base, rev = _split_rev(text)
        path = urlparse(base).path
        if not git_prefixed and path.endswith(ARCHIVE_SUFFIXES) and rev is None:
            return CodeSource("archive", base, None, sub)
        parts = [p for p in path.split("/") if p]
        if git_prefixed or path.endswith(".git") or rev is not None or len(parts) == 2 or sub:
            return CodeSource("git", base, rev, sub)
        return None
    base, rev = _split_rev(text)
    if (rev is not None or git_prefixed or sub) and (Path(base) / ".git").exists():
        return CodeSource("git", str(Path(base).resolve()), rev, sub)
    return None


def local_commit(directory: Path) -> tuple[str | None, bool]:
    """(HEAD's commit, whether the work tree has changes) of a git repository's top level."""
    if not (directory / ".git").exists():
        return None, False
    try:
        head = _git(["rev-parse", "--verify", "HEAD^{commit}"], cwd=directory).strip()
        dirty = bool(_git(["status", "--porcelain", "--untracked-files=no"], cwd=directory).strip())
    except (InputError, RemoteError):
        return None, False
    return head, dirty


def fetch(source: CodeSource, target: Path) -> Fetched:
    """Fetch ``source`` into the new directory ``target`` (its parent must exist); with a
    subdirectory, ``root`` is that folder of it."""
    fetched = _fetch_git(source, target) if source.kind == "git" else _fetch_archive(source, target)
    if not source.subdirectory:
        return fetched
    root = fetched.root / source.subdirectory
    if not root.is_dir() or root.is_symlink():
        raise InputError(f"{fetched.pin}: no folder {source.subdirectory!r} in it",
                         "check the subdirectory (relative to the top level)")
    return Fetched(root, f"{fetched.pin}#subdirectory={source.subdirectory}"
                   if source.kind == "git" else f"{fetched.pin}&subdirectory={source.subdirectory}")


def _git(args: list[str], cwd: Path | None = None, binary: bool = False) -> str | bytes:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}
    try:
        done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True,
                              timeout=GIT_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise ToolMissingError("git is not installed", "install git to register programs from "
                               "a repository") from None
    except subprocess.TimeoutExpired:
        raise RemoteError(f"git {args[0]} took longer than {GIT_TIMEOUT_S}s", "check the URL") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RemoteError(f"git {args[0]} failed: {message[-1] if message else done.returncode}",
                          "check the repository URL and the revision")
    return done.stdout if binary else done.stdout.decode("utf-8", "replace")


def _fetch_git(source: CodeSource, target: Path) -> Fetched:
    clone = target.parent / (target.name + ".git")
    _git(["clone", "--quiet", "--no-checkout", "--", source.url, str(clone)])
    rev = source.rev or "HEAD"
    try:
        commit = str(_git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=clone)).strip()
    except RemoteError:
        raise InputError(f"{source.url}: no revision '{rev}' in the repository",
                         "give a branch, tag or commit that exists (URL@REV or URL#REF)") from None
    tree = _git(["archive", "--format=tar", commit], cwd=clone, binary=True)
    target.mkdir()
    with tarfile.open(fileobj=io.BytesIO(tree)) as archive:
        archive.extractall(target, filter="data")
    import shutil
    shutil.rmtree(clone, ignore_errors=True)
    return Fetched(target, f"{source.url}@{commit}")


def _download(url: str) -> bytes:
    import requests

    try:
        with requests.get(url, timeout=60, stream=True) as response:
            response.raise_for_status()
            chunks, total = [], 0
            for chunk in response.iter_content(1 << 20):
                total += len(chunk)
                if total > MAX_ARCHIVE_BYTES:
                    raise InputError(f"{url}: larger than {MAX_ARCHIVE_BYTES >> 30} GiB",
                                     "register a git repository or a smaller archive")
                chunks.append(chunk)
    except requests.RequestException as error:
        raise RemoteError(f"cannot download {url}: {error}", "check the URL") from None
    return b"".join(chunks)


def _safe_member(name: str, url: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise InputError(f"{url}: archive member {name!r} points outside the archive",
                         "use an archive made by git archive or GitHub")
    return path


def _fetch_archive(source: CodeSource, target: Path) -> Fetched:
    data = _download(source.url)
    digest = hashlib.sha256(data).hexdigest()
    target.mkdir()
    try:
        if source.url.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    _safe_member(name, source.url)
                archive.extractall(target)
        else:
            with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                for member in archive.getmembers():
                    _safe_member(member.name, source.url)
                archive.extractall(target, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as error:
        raise InputError(f"{source.url}: not a readable archive ({error})",
                         "give a .tar.gz, .tgz, .tar or .zip") from None
    entries = list(target.iterdir())
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else target
    return Fetched(root, f"{source.url}#sha256={digest}")
