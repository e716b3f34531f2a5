"""A bundle forger for hostile-input tests: it writes files whose manifest is *consistent* —
every part's segment size and sha256, every listed member's size and digest — so a forged
defect reaches the check it is aimed at instead of stopping at the format check.

A forged bundle is the real layout (``samepack/bundle/format/layout.py``): the header segment the
reader regenerates from the manifest, one gzip segment per part, the trailer. Members are
honest ones (``files``) or raw tar bytes (``raw``: header blocks built here byte by byte,
for the member types and records samepack never writes).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from samepack.bundle.format.layout import header_segment, trailer_segment
from samepack.bundle.format.manifest import PART_ORDER
from samepack.bundle.format.tarblocks import BLOCK, member_header, padding

PROGRAM = ("apiVersion: samepack.dev/v1\nkind: Program\n"
           "metadata: {{name: {name}, version: '{version}'}}\n"
           "steps:\n  main: {{run: \"python main.py\"}}\n")


def program_yaml(name: str = "forged", version: str = "1.0", extra: str = "") -> bytes:
    return (PROGRAM.format(name=name, version=version) + extra).encode()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Raw:
    """A member written as raw tar bytes; ``listed`` is what the manifest says of it
    (path, size, sha256, mode), None to leave it out of the manifest."""

    data: bytes
    listed: tuple[str, int, str, str] | None
    frames: bytes = b""  # already compressed bytes of the stream, after ``data``


@dataclass
class Forgery:
    name: str = "forged"
    version: str = "1.0"
    files: dict[str, bytes] = field(default_factory=dict)  # path -> content (mode 0644)
    raw: dict[str, list[Raw]] = field(default_factory=dict)  # part -> raw members, after files
    edit: Callable[[dict[str, Any]], None] | None = None  # change the manifest dict last
    manifest_bytes: bytes | None = None  # the manifest as given, byte for byte

    def with_program(self, text: bytes | None = None) -> "Forgery":
        self.files.setdefault("program/samepack.yaml",
                              text if text is not None else program_yaml(self.name, self.version))
        return self


def forge(path: Path, forgery: Forgery) -> Path:
    """Write the forged bundle at ``path``."""
    segments: list[tuple[str, bytes, list[dict]]] = []
    for part in PART_ORDER:
        tar, members, segment = b"", [], b""
        for member, content in sorted(forgery.files.items()):
            if member.split("/", 1)[0] != part:
                continue
            tar += member_header(member, len(content), 0o644) + content + padding(len(content))
            members.append({"path": member, "size": len(content), "mode": "0644",
                            "sha256": sha(content)})
        for raw in forgery.raw.get(part, []):
            tar += raw.data
            if raw.frames:
                segment, tar = segment + gzip.compress(tar, mtime=0) + raw.frames, b""
            if raw.listed:
                path_, size, digest, mode = raw.listed
                members.append({"path": path_, "size": size, "mode": mode, "sha256": digest})
        segment += gzip.compress(tar, mtime=0) if tar else b""
        if members or forgery.raw.get(part):
            segments.append((part, segment, members))
    manifest = {"format": 1, "kind": "samepack-bundle", "created": 0, "compression": "gzip",
                "program": {"name": forgery.name, "version": forgery.version},
                "tool": {"name": "samepack", "version": "0.1.0"},
                "parts": [{"name": part, "compression": "gzip",
                           "media_type": f"application/vnd.samepack.{part}.v1.tar+gzip",
                           "size": len(segment), "sha256": sha(segment), "members": members}
                          for part, segment, members in segments]}
    if forgery.edit:
        forgery.edit(manifest)
    raw_manifest = forgery.manifest_bytes or json.dumps(
        manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    path.write_bytes(header_segment(raw_manifest, "gzip")
                     + b"".join(segment for _, segment, _ in segments)
                     + trailer_segment("gzip"))
    return path


# -- raw tar headers ------------------------------------------------------------------------
def header(name: str | bytes, size: int, kind: bytes = b"0", *, linkname: str = "",
           mode: int = 0o644, magic: bytes = tarfile.POSIX_MAGIC, size_field: bytes | None = None,
           tail: bytes = b"") -> bytes:
    """One tar header block with a valid checksum; ``tail`` fills bytes 345.. (GNU's sparse
    map and real size live there)."""
    raw_name = name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name
    block = bytearray(BLOCK)
    block[0:len(raw_name[:100])] = raw_name[:100]
    block[100:108] = b"%07o\0" % mode
    block[108:124] = b"0000000\0" * 2
    block[124:136] = size_field if size_field is not None else b"%011o\0" % size
    block[136:148] = b"00000000000\0"
    block[148:156] = b" " * 8
    block[156:157] = kind
    block[157:157 + len(linkname)] = linkname.encode()
    block[257:257 + len(magic)] = magic
    block[345:345 + len(tail)] = tail
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def pax_records(records: dict[str, str]) -> bytes:
    out = b""
    for key, value in records.items():
        body = f" {key}={value}\n".encode()
        length = len(body) + 1
        while len(str(length)) + len(body) != length:
            length += 1
        out += str(length).encode() + body
    return out


def pax(records: dict[str, str] | bytes, then: bytes, *, claimed: int | None = None) -> bytes:
    """A pax ``x`` header with ``records``, then the member blocks ``then``."""
    data = pax_records(records) if isinstance(records, dict) else records
    size = len(data) if claimed is None else claimed
    return header("./PaxHeaders/x", size, b"x") + data + padding(len(data)) + then


def regular(name: str, content: bytes, kind: bytes = b"0", **options) -> bytes:
    return header(name, len(content), kind, **options) + content + padding(len(content))


def listed(name: str, content: bytes) -> tuple[str, int, str, str]:
    return (name, len(content), sha(content), "0644")
