"""The standard library of a *target* Python version, from lists shipped in ``samepack/data/stdlib``.

The lists are generated from ``sys.stdlib_module_names`` of the running Python, adjusted by the
modules each release added or removed (``python -m samepack.scan.resolve.stdlib`` rewrites them).
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "stdlib"
VERSIONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")

# Top-level modules that appeared in (ADDED) or left (REMOVED) the standard library at a version.
ADDED: dict[str, set[str]] = {
    "3.9": {"graphlib", "zoneinfo", "_zoneinfo"},
    "3.11": {"tomllib", "_tokenize", "_typing"},
    "3.12": {"_wmi"},
    "3.13": {"_interpchannels", "_interpqueues", "_interpreters", "_suggestions", "_sysconfig",
             "_testexternalinspection", "_colorize", "_pyrepl"},
    "3.14": {"annotationlib", "compression", "_zstd", "_remote_debugging", "_hmac"},
}
REMOVED: dict[str, set[str]] = {
    "3.9": {"_dummy_thread", "dummy_threading"},
    "3.10": {"formatter", "parser", "symbol", "_peg_parser"},
    "3.11": {"binhex"},
    "3.12": {"asynchat", "asyncore", "distutils", "imp", "smtpd"},
    "3.13": {"aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "mailcap", "msilib",
             "nis", "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib",
             "uu", "xdrlib", "lib2to3", "_crypt"},
}


# Standard-library modules of Python 2 that Python 3 renamed or dropped. Code imports them in
# a fallback for old interpreters; no distribution provides them, so they are never a
# requirement (a lock would fail on a package that does not exist).
PYTHON2_ONLY = frozenset({
    "StringIO", "cStringIO", "urllib2", "urlparse", "httplib", "HTMLParser", "htmlentitydefs",
    "Cookie", "cookielib", "BaseHTTPServer", "SimpleHTTPServer", "CGIHTTPServer",
    "SocketServer", "xmlrpclib", "SimpleXMLRPCServer", "DocXMLRPCServer", "robotparser",
    "Tkinter", "tkMessageBox", "tkFileDialog", "tkSimpleDialog", "tkColorChooser", "tkFont",
    "ttk", "Tix", "ScrolledText", "Tkconstants", "Tkdnd", "Dialog", "FileDialog",
    "ConfigParser", "Queue", "cPickle", "copy_reg", "__builtin__", "exceptions", "commands",
    "sets", "md5", "sha", "thread", "dummy_thread", "repr", "UserDict", "UserList",
    "UserString", "anydbm", "dbhash", "whichdb", "gdbm", "dumbdbm", "mimetools",
    "rfc822", "popen2", "new", "markupbase", "imputil",
    "htmllib", "sgmllib", "mhlib", "mimify", "MimeWriter", "multifile", "posixfile",
    "statvfs", "user", "dircache", "fpformat", "compiler", "hotshot",
})


def _key(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def generate(base_version: str, base: set[str]) -> dict[str, list[str]]:
    """Module lists for every version in VERSIONS, starting from ``base`` (the list of
    ``base_version``) and replaying ADDED/REMOVED forwards and backwards."""
    lists: dict[str, set[str]] = {base_version: set(base)}
    ordered = sorted(VERSIONS, key=_key)
    start = ordered.index(base_version)
    for previous, version in zip(ordered[start:], ordered[start + 1:]):
        lists[version] = (lists[previous] | ADDED.get(version, set())) - REMOVED.get(version, set())
    for version, following in zip(reversed(ordered[:start]), reversed(ordered[1:start + 1])):
        lists[version] = (lists[following] - ADDED.get(following, set())) | REMOVED.get(following, set())
    return {version: sorted(modules) for version, modules in lists.items()}


@lru_cache(maxsize=None)
def stdlib_modules(version: str) -> frozenset[str]:
    """Top-level standard-library module names of ``version`` ("3.12"); the nearest shipped
    version is used for versions outside 3.8–3.14."""
    wanted = _key(version)
    shipped = sorted(VERSIONS, key=_key)
    chosen = min(shipped, key=lambda v: (abs(_key(v)[1] - wanted[1]) if _key(v)[0] == wanted[0] else 99))
    text = (DATA_DIR / f"{chosen}.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def is_stdlib(module: str, version: str) -> bool:
    """Whether the top-level part of ``module`` belongs to the standard library of ``version``."""
    return module.split(".", 1)[0] in stdlib_modules(version)


def _write_lists() -> None:
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    for version, modules in generate(here, set(sys.stdlib_module_names)).items():
        header = f"# Standard library of Python {version} (top-level modules), generated from Python {here}.\n"
        (DATA_DIR / f"{version}.txt").write_text(header + "\n".join(modules) + "\n", encoding="utf-8")


if __name__ == "__main__":
    _write_lists()
