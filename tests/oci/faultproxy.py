"""A real HTTP proxy in front of a registry that answers the first N matching requests with an
error status, then forwards everything (method, headers, body, status, headers, body). The Host
header is passed on, so the registry's upload locations point back at the proxy."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "content-length"}


class FaultProxy:
    def __init__(self, upstream: str, fail: int, status: int = 503, method: str = "",
                 where: str = "") -> None:
        """Fail ``fail`` requests whose method is ``method`` and path holds ``where``."""
        self.upstream, self.left, self.status, self.method = upstream, fail, status, method
        self.where = where
        self.seen: list[tuple[str, int]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "FaultProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _should_fail(self, method: str, path: str) -> bool:
        with self.lock:
            if self.left > 0 and method == (self.method or method) and self.where in path:
                self.left -= 1
                return True
            return False

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if proxy._should_fail(self.command, self.path):
                    proxy.seen.append((self.command, proxy.status))
                    self.send_response(proxy.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                answer = requests.request(self.command, f"http://{proxy.upstream}{self.path}",
                                          headers=headers, data=body, allow_redirects=False,
                                          stream=True, timeout=30)
                content = answer.raw.read(decode_content=False)
                proxy.seen.append((self.command, answer.status_code))
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in HOP_BY_HOP | {"host"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _relay

            def log_message(self, *args: object) -> None:
                pass

        return Handler
