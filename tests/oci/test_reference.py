"""oci:// references and the loopback rule for plain http."""

from __future__ import annotations

import pytest

from samepack.errors import InputError
from samepack.oci.reference import Reference, is_loopback, parse_reference

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("text, expected", [
    ("oci://127.0.0.1:5000/team/demo:1.0", Reference("127.0.0.1:5000", "team/demo", "1.0")),
    ("oci://registry.example.com/demo", Reference("registry.example.com", "demo")),
    (f"oci://localhost:5000/a/b/c@{DIGEST}", Reference("localhost:5000", "a/b/c", None, DIGEST)),
    (f"oci://[::1]:5000/demo:v2@{DIGEST}", Reference("[::1]:5000", "demo", "v2", DIGEST)),
    ("oci://Host.Example:443/x-y_z.w:1.0_cu", Reference("host.example:443", "x-y_z.w", "1.0_cu")),
])
def test_parse(text: str, expected: Reference) -> None:
    assert parse_reference(text) == expected


def test_round_trip_and_version() -> None:
    ref = parse_reference(f"oci://h:1/r:t@{DIGEST}")
    assert str(ref) == f"oci://h:1/r:t@{DIGEST}"
    assert ref.version == DIGEST
    assert parse_reference("oci://h/r:t").version == "t"


@pytest.mark.parametrize("text, needle", [
    ("docker://h/r", "must start with oci://"),
    ("oci://h", "no repository"),
    ("oci://h/Upper/Case", "bad repository"),
    ("oci://h/r:bad+tag", "bad tag"),
    ("oci://h/r@sha256:short", "bad digest"),
    ("oci://h_/r", "bad host"),
])
def test_bad_references_name_the_part(text: str, needle: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_reference(text)
    assert needle in raised.value.message
    assert "oci://HOST" in raised.value.hint


@pytest.mark.parametrize("host, loopback", [
    ("localhost:5000", True), ("127.0.0.1:5000", True), ("127.8.9.10", True),
    ("[::1]:5000", True), ("10.0.0.1:5000", False), ("registry.example.com", False),
    ("localhost.example.com", False),
])
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
