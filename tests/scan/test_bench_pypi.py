"""bench/pypi_tops.py: a distribution's top-level modules read from its wheel's central directory
by HTTP range reads, against a real loopback server that speaks PyPI's JSON API."""

from __future__ import annotations

import io
import json
import sys
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture
def pypi_tops(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(REPO_ROOT / "bench"))
    import pypi_tops as module

    monkeypatch.setenv("SAMEPACK_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SAMEPACK_BENCH_OFFLINE", raising=False)
    return module


def wheel_bytes(members: dict[str, bytes], padding: int = 0) -> bytes:
    """A real zip; ``padding`` bytes of incompressible data first, so the central directory
    sits far from the start of the file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if padding:
            package = next(iter(members)).split("/", 1)[0]
            archive.writestr(f"{package}/weights.bin", bytes(range(256)) * (padding // 256),
                             zipfile.ZIP_STORED)
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def sdist_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class Index:
    """A loopback server: ``/pypi/NAME/json`` and the files, with byte ranges unless told not
    to; it records every request and every byte it sent."""

    def __init__(self) -> None:
        self.releases: dict[str, dict] = {}
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.bytes_sent = 0
        self.honour_ranges = True
        index = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                index.requests.append((self.path, self.headers.get("Range")))
                if self.path.startswith("/pypi/") and self.path not in index.files:
                    name = self.path.split("/")[2]
                    if name not in index.releases:
                        return self.send_error(404)
                    return self._send(200, json.dumps(index.releases[name]).encode())
                data = index.files.get(self.path)
                if data is None:
                    return self.send_error(404)
                wanted = self.headers.get("Range")
                if wanted and index.honour_ranges:
                    first, last = (int(x) for x in wanted.split("=", 1)[1].split("-"))
                    return self._send(206, data[first:last + 1])
                return self._send(200, data)

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                    index.bytes_sent += len(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, name: str, filename: str, data: bytes, requires: list[str] | None = None,
                relative: bool = False) -> None:
        path = f"/packages/{filename}"
        self.files[path] = data
        url = f"../../packages/{filename}" if relative else self.url + path  # PyPI mirrors do both
        self.releases[name] = {"info": {"version": "1.0", "summary": f"{name} for tests",
                                        "requires_dist": requires},
                               "urls": [{"filename": filename, "url": url, "size": len(data)}]}


@pytest.fixture
def index(monkeypatch):
    served = Index()
    monkeypatch.setenv("SAMEPACK_BENCH_PYPI", served.url)
    yield served
    served.server.shutdown()


def test_a_wheels_modules_come_from_its_central_directory_by_range_reads(pypi_tops, index):
    wheel = wheel_bytes({"clip/__init__.py": b"", "clip/model.py": b"x = 1\n",
                         "fast_tok.cpython-311-x86_64-linux-gnu.so": b"\0",
                         "helper.py": b"", "openai_clip-1.0.dist-info/RECORD": b"",
                         "openai_clip-1.0.data/purelib/extra_mod/__init__.py": b"",
                         "openai_clip-1.0.data/scripts/clip-cli": b""}, padding=300_000)
    index.publish("openai-clip", "openai_clip-1.0-py3-none-any.whl", wheel, relative=True)
    assert pypi_tops.pypi_tops("OpenAI_CLIP") == {"clip", "fast_tok", "helper", "extra_mod"}
    assert index.bytes_sent < 70_000 + len(json.dumps(index.releases["openai-clip"]))  # not the wheel
    assert all(r for path, r in index.requests if path.startswith("/packages/"))
    sent = len(index.requests)
    assert pypi_tops.pypi_tops("openai-clip") == {"clip", "fast_tok", "helper", "extra_mod"}
    assert len(index.requests) == sent  # answered from the cache on disk


def test_a_missing_distribution_is_remembered_and_offline_reads_only_the_cache(pypi_tops, index,
                                                                               monkeypatch):
    assert pypi_tops.pypi_tops("taming") is None
    assert pypi_tops.pypi_tops("taming") is None
    assert [path for path, _ in index.requests] == ["/pypi/taming/json"]  # one request, cached
    monkeypatch.setenv("SAMEPACK_BENCH_OFFLINE", "1")
    index.publish("fire", "fire-1.0-py3-none-any.whl", wheel_bytes({"fire/__init__.py": b""}))
    assert pypi_tops.pypi_tops("fire") is None
    assert len(index.requests) == 1


def test_a_server_that_ignores_ranges_is_not_downloaded_and_nothing_is_cached(pypi_tops, index,
                                                                              capsys):
    wheel = wheel_bytes({"big_pkg/__init__.py": b""}, padding=2_000_000)
    index.publish("big-pkg", "big_pkg-1.0-py3-none-any.whl", wheel)
    index.honour_ranges = False
    assert pypi_tops.pypi_tops("big-pkg") is None
    assert "ignored the byte range" in capsys.readouterr().err
    assert not (pypi_tops.cache_dir() / "big-pkg.json").exists()  # a later run tries again
    index.honour_ranges = True
    assert pypi_tops.pypi_tops("big-pkg") == {"big_pkg"}


def test_a_damaged_zip_is_unverified_not_a_crash(pypi_tops, index):
    wheel = bytearray(wheel_bytes({"pkg/__init__.py": b""}))
    end = wheel.rfind(b"PK\x05\x06")
    wheel[end + 16:end + 20] = (len(wheel) * 2).to_bytes(4, "little")  # directory offset past the end
    index.publish("pkg", "pkg-1.0-py3-none-any.whl", bytes(wheel))
    assert pypi_tops.pypi_tops("pkg") is None


def test_source_archives_and_metapackages(pypi_tops, index):
    index.publish("academictorrents", "academictorrents-2.3.3.tar.gz", sdist_bytes({
        "academictorrents-2.3.3/setup.py": b"",
        "academictorrents-2.3.3/academictorrents.egg-info/top_level.txt": b"academictorrents\n"}))
    index.publish("plainlayout", "plainlayout-0.1.tar.gz", sdist_bytes({
        "plainlayout-0.1/setup.py": b"", "plainlayout-0.1/src/plain/__init__.py": b"",
        "plainlayout-0.1/tool.py": b"", "plainlayout-0.1/tests/__init__.py": b""}))
    index.publish("tensorrt", "tensorrt-1.0.tar.gz", sdist_bytes({"tensorrt-1.0/setup.py": b""}),
                  requires=["tensorrt_cu13==1.0", 'numpy; extra == "numpy"'])
    index.publish("tensorrt-cu13", "tensorrt_cu13-1.0-py3-none-any.whl",
                  wheel_bytes({"tensorrt/__init__.py": b""}))
    assert pypi_tops.pypi_tops("academictorrents") == {"academictorrents"}
    assert pypi_tops.pypi_tops("plainlayout") == {"plain", "tool"}
    assert pypi_tops.pypi_tops("tensorrt") == {"tensorrt"}  # what the metapackage installs
    assert "/pypi/numpy/json" not in [path for path, _ in index.requests]  # an extra's, not followed


def test_import_truth_asks_pypi_only_for_what_is_not_here(pypi_tops, index, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO_ROOT / "bench"))
    import import_truth

    import_truth.providers.cache_clear()
    index.publish("taming-transformers", "taming_transformers-0.0.1-py3-none-any.whl",
                  wheel_bytes({"taming/__init__.py": b""}))
    assert "yaml" in import_truth.providers("pyyaml")  # installed here: no request
    assert import_truth.providers("taming-transformers") == {"taming"}
    assert [path for path, _ in index.requests if path.startswith("/pypi/")] == [
        "/pypi/taming-transformers/json"]
    right, wrong, unverified = import_truth.judge(["taming-transformers", "taming"], {"taming"},
                                                  declared=set())
    assert right == ["taming-transformers"] and wrong == [] and unverified == ["taming"]
    import_truth.providers.cache_clear()
    sys.modules.pop("import_truth", None)


def test_a_zip64_directory_is_found_through_its_locator(pypi_tops, index):
    # more than 65,535 members: the classic end record says 0xFFFF, the zip64 one has the truth
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for number in range(65_600):
            archive.writestr(f"many_files/m{number}.py", b"")
        archive.writestr("other_top.py", b"")
        archive.writestr("many_files/weights.bin", bytes(range(256)) * 8192)  # 2 MB of data
    wheel = buffer.getvalue()
    assert wheel.rfind(b"PK\x06\x06") > 0  # really zip64
    index.publish("many-files", "many_files-1.0-py3-none-any.whl", wheel)
    assert pypi_tops.pypi_tops("many-files") == {"many_files", "other_top"}
    assert index.bytes_sent < len(wheel) - 2_000_000  # the directory, not the members


@pytest.mark.parametrize("answer", [
    b"[1, 2]", b'{"info": 3, "urls": 4}', b"not json",
    b'{"urls": [{"filename": "x-1-py3-none-any.whl", "url": "/packages/x", "size": -5}]}'])
def test_a_hostile_json_answer_is_unverified_not_a_crash(pypi_tops, index, answer, capsys):
    index.files["/pypi/hostile/json"] = answer  # raw bytes where PyPI's JSON should be
    assert pypi_tops.pypi_tops("hostile") is None
    assert "pypi_tops: hostile:" in capsys.readouterr().err
    assert not (pypi_tops.cache_dir() / "hostile.json").exists()
