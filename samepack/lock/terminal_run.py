"""Run a tool that draws its own progress (uv) on the user's terminal and keep what it says.

The tool's stderr is a pseudo-terminal, so it shows its live progress as it would in a shell;
everything it writes there is copied to our stderr as it comes, and kept. The kept text, with
the terminal's colours and redraws taken out, is the tool's whole message for the error
samepack raises when it fails. Its stdout (uv's copy of the lock it writes to a file) is
dropped. Only for a terminal on a POSIX system; callers run the tool plainly otherwise.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

KEPT_LIMIT = 4 << 20  # bytes of the tool's output kept for its error message (the end of it)

_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_SPINNER = re.compile(r"^[\u2800-\u28ff]")  # a braille spinner frame: a redraw, not a message


def can_run_on_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return os.name == "posix" and bool(isatty and isatty())


def run_on_terminal(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
                    timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run ``args`` with its stderr on a pseudo-terminal mirrored to ours; the result's
    ``stderr`` is what it wrote there, as plain lines. Raises :class:`FileNotFoundError`
    and :class:`subprocess.TimeoutExpired` as :func:`subprocess.run` does."""
    import pty
    import select

    main, side = pty.openpty()
    try:
        _copy_window_size(side)
        process = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=side)
    except BaseException:
        os.close(main)
        os.close(side)
        raise
    os.close(side)
    kept = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise subprocess.TimeoutExpired(args, timeout)
            ready, _, _ = select.select([main], [], [], 0.2)
            if not ready:
                if process.poll() is not None and not _more(main):
                    break
                continue
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the tool closed its end
                break
            if not chunk:
                break
            _show(chunk)
            kept += chunk
            del kept[:-KEPT_LIMIT]
        returncode = process.wait()
    finally:
        os.close(main)
    return subprocess.CompletedProcess(args, returncode, "", plain_text(bytes(kept)))


def _more(fd: int) -> bool:
    import select

    return bool(select.select([fd], [], [], 0)[0])


def _show(chunk: bytes) -> None:
    stream = getattr(sys.stderr, "buffer", None)
    if stream is not None:
        stream.write(chunk)
        stream.flush()
    else:
        sys.stderr.write(chunk.decode("utf-8", "replace"))
        sys.stderr.flush()


def _copy_window_size(fd: int) -> None:
    """The tool's terminal is as wide as ours, so its bars fit on one line."""
    import fcntl
    import struct
    import termios

    try:
        size = os.get_terminal_size(sys.stderr.fileno())
        columns, lines = size.columns, size.lines
    except (OSError, ValueError, AttributeError):
        columns, lines = 80, 24
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))


def plain_text(raw: bytes) -> str:
    """What a terminal left on the screen, line by line: colours and cursor moves removed,
    a line redrawn after a carriage return kept as last drawn, spinner frames dropped."""
    text = _ESCAPES.sub("", raw.decode("utf-8", "replace")).replace("\r\n", "\n")
    lines = []
    for line in text.split("\n"):
        shown = line.rsplit("\r", 1)[-1].rstrip()
        if shown and not _SPINNER.match(shown.lstrip()):
            lines.append(shown)
    return "\n".join(lines) + ("\n" if lines else "")
