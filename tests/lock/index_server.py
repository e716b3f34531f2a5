"""A PEP 503 simple index served over HTTP on 127.0.0.1: one or more indexes under their own
path (``/main/``, ``/private/``), a private one answering only to HTTP basic credentials, as a
company's package server does."""

from __future__ import annotations

import base64
import hashlib
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator


def _pages(wheels: list[Path]) -> dict[str, bytes]:
    """``project/`` -> its page, ``""`` -> the root page, ``FILE`` -> the wheel's bytes."""
    by_name: dict[str, list[Path]] = {}
    for wheel in wheels:
        by_name.setdefault(wheel.name.split("-")[0].replace("_", "-").lower(), []).append(wheel)
    pages: dict[str, bytes] = {"": "".join(f'<a href="{n}/">{n}</a>\n'
                                           for n in sorted(by_name)).encode()}
    for name, files in by_name.items():
        links = "".join(f'<a href="../files/{w.name}#sha256='
                        f'{hashlib.sha256(w.read_bytes()).hexdigest()}">{w.name}</a>\n'
                        for w in files)
        pages[f"{name}/"] = f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()
        pages.update({f"files/{w.name}": w.read_bytes() for w in files})
    return pages


@contextmanager
def serve_indexes(indexes: dict[str, list[Path]], credentials: dict[str, tuple[str, str]]
                  ) -> Iterator[str]:
    """Serve each ``indexes[name]`` (wheels) at ``/name/``; ``credentials[name]`` (user,
    password) guards it. Yields ``http://127.0.0.1:PORT``."""
    pages = {name: _pages(wheels) for name, wheels in indexes.items()}
    wanted = {name: "Basic " + base64.b64encode(f"{u}:{p}".encode()).decode()
              for name, (u, p) in credentials.items()}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def do_HEAD(self) -> None:
            self.do_GET(body=False)

        def do_GET(self, body: bool = True) -> None:
            name, _, rest = self.path.lstrip("/").partition("/")
            if name in wanted and self.headers.get("Authorization") != wanted[name]:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="private"')
                self.end_headers()
                return
            content = pages.get(name, {}).get(rest.split("#")[0])
            if content is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream" if rest.startswith("files/")
                             else "text/html")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if body:
                self.wfile.write(content)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
