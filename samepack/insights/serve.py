"""``samepack runs report --serve``: the report on 127.0.0.1, built afresh for every page load;
the page asks ``/version`` every two seconds and reloads when runs were added or finished."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from samepack.console import info, warn
from samepack.errors import SamepackError


def history_version() -> str:
    """Changes whenever a run starts, finishes or gets a step or metric."""
    from samepack.history import History

    history = History()
    try:
        return history.change_marker()
    finally:
        history.close()


def make_server(port: int, page: Callable[[], str],
                version: Callable[[], str] = history_version) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?")[0]
            try:
                if path in ("/", "/index.html"):
                    self._send(page().encode("utf-8"), "text/html; charset=utf-8")
                elif path == "/version":
                    self._send(version().encode(), "text/plain")
                else:
                    self.send_error(404)
            except SamepackError as error:  # a damaged history: said here and to the page
                warn(error.message)
                self.send_error(500, error.message, error.hint)

        def _send(self, body: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # quiet: the URL is all one needs
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def serve(port: int, page: Callable[[], str]) -> None:
    server = make_server(port, page)
    info(f"serving the run report on http://127.0.0.1:{server.server_address[1]}/ "
         "(Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
