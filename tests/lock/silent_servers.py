"""Real servers on 127.0.0.1 that do not answer as a conda channel should: one that accepts
connections and never says a word, one that answers a first HEAD and then holds every GET.
Nothing leaves the machine."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def _serving(handle) -> Iterator[str]:
    """A listening socket whose connections each get a thread running ``handle(conn, stop)``;
    yields the server's base URL and closes everything when done."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            threading.Thread(target=handle, args=(conn, stop), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        for conn in held:
            conn.close()


def _never_answer(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait()


def _answer_head_then_hold(conn: socket.socket, stop: threading.Event) -> None:
    conn.settimeout(0.5)
    data = b""
    while not stop.is_set() and b"\r\n\r\n" not in data:
        try:
            chunk = conn.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            return
        if not chunk:
            return
        data += chunk
    if data.startswith(b"HEAD "):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        conn.close()
        return
    stop.wait()  # a GET: accepted, read, and never answered


@contextmanager
def silent_server() -> Iterator[str]:
    """Accepts every connection and never answers (a frozen proxy, a black-holed mirror)."""
    with _serving(_never_answer) as url:
        yield url


@contextmanager
def stalling_channel() -> Iterator[str]:
    """Answers the first contact (HEAD) at once, then holds every request for repodata."""
    with _serving(_answer_head_then_hold) as url:
        yield url


@contextmanager
def slow_channel(directory, delay: float) -> Iterator[str]:
    """A real HTTP conda channel serving ``directory``, each package file only after ``delay``
    seconds (a slow line: long enough for progress to be drawn between files)."""
    import functools
    import http.server
    import time

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.endswith((".conda", ".tar.bz2")):
                time.sleep(delay)
            super().do_GET()

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
