"""A tiny hostile registry on 127.0.0.1: a real HTTP server in front of a real registry that
forwards manifests and small blobs but misbehaves on purpose.

Modes:
- ``short``: a layer blob is answered ``200`` with a ``Content-Length`` of half its size and
  half its bytes; a ``Range`` request gets ``416`` (the registry's copy is short).
- ``cut``: a layer blob is answered ``200`` with its full length, but the connection closes
  half-way, at the same place on every try, ranged or not.
- ``frozen``: ``GET /v2/`` answers, then every request is read and never answered (the
  connection stays open until the server stops).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "content-length"}
LAYER_MIN = 64 * 1024  # blobs at least this big are "layers"; the config is smaller


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # a client hanging up on a hostile answer is the expected outcome


class HostileRegistry:
    def __init__(self, upstream: str, mode: str) -> None:
        self.upstream, self.mode = upstream, mode
        self.requests: list[str] = []
        self.stop = threading.Event()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "HostileRegistry":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, status: int, headers: dict, body: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _relay(self) -> None:
                hostile.requests.append(f"{self.command} {self.path}")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if hostile.mode == "frozen" and self.path != "/v2/":
                    hostile.stop.wait(120)
                    self.close_connection = True
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in HOP_BY_HOP | {"range"}}
                answer = requests.request(self.command, f"http://{hostile.upstream}{self.path}",
                                          headers=headers, data=body, allow_redirects=False,
                                          timeout=30)
                content = answer.content
                out = {k: v for k, v in answer.headers.items()
                       if k.lower() not in HOP_BY_HOP | {"host"}}
                is_layer = ("/blobs/sha256:" in self.path and self.command == "GET"
                            and answer.status_code == 200 and len(content) >= LAYER_MIN)
                if not is_layer:
                    self._answer(answer.status_code, {**out, "Content-Length": str(len(content))},
                                 content)
                    return
                half = len(content) // 2
                if hostile.mode == "short":
                    if self.headers.get("Range"):
                        self._answer(416, {"Content-Length": "0"}, b"")
                        return
                    self._answer(200, {**out, "Content-Length": str(half)}, content[:half])
                    return
                # cut: promise everything, deliver half, hang up
                self.send_response(200)
                for key, value in out.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content[:half])
                self.wfile.flush()
                self.close_connection = True

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _relay

            def log_message(self, *args: object) -> None:
                pass

        return Handler
