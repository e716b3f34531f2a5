"""The CLI run on a real pseudo-terminal, read as a person sees it: every byte it writes goes
through pyte (a VT100 emulator), so redrawn lines, cleared spinners and colours end as the
screen shows them; the raw bytes are kept too (what flashed by)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

import pyte


@dataclass
class TerminalRun:
    returncode: int
    raw: bytes  # everything written to the terminal
    screen: list[str]  # the lines the terminal shows at the end, right-trimmed

    @property
    def text(self) -> str:
        return "\n".join(self.screen)


def run_in_terminal(*args: str | os.PathLike, env: dict[str, str] | None = None,
                    cwd: Path | None = None, timeout: float = 300, columns: int = 160,
                    lines: int = 200) -> TerminalRun:
    """``python -m samepack ARGS`` with stdin, stdout and stderr on one pty of the given size."""
    main, side = pty.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    child_env = {**os.environ, "TERM": "xterm-256color", **(env or {})}
    for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES"):
        child_env.pop(name, None)
    process = subprocess.Popen([sys.executable, "-m", "samepack", *map(str, args)], cwd=cwd,
                               env=child_env, stdin=side, stdout=side, stderr=side,
                               start_new_session=True)
    os.close(side)
    raw = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(main, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                raw += chunk
            elif process.poll() is not None:
                break
        else:
            process.kill()
            raise AssertionError(f"samepack {args} did not finish within {timeout} s:\n"
                                 + raw.decode("utf-8", "replace"))
    finally:
        os.close(main)
    returncode = process.wait(timeout=30)
    screen = pyte.Screen(columns, lines)
    pyte.ByteStream(screen).feed(bytes(raw))
    shown = [line.rstrip() for line in screen.display]
    while shown and not shown[-1]:
        shown.pop()
    return TerminalRun(returncode, bytes(raw), shown)
