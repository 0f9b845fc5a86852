"""What every server launcher needs: the address, the error, ports, polling and logs.

Standard library only, like the rest of the package outside ``fixtures``: the
benchmark harness (``bench/``) starts its Redis with these launchers too.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

LOOPBACK = "127.0.0.1"
"""The only address the servers listen on."""

STARTUP_TIMEOUT = 30.0
"""Seconds a server gets to come up (or shut down) before we give up."""

_POLL_INTERVAL = 0.02
_LOG_TAIL_LINES = 40


class ServiceStartError(RuntimeError):
    """A server binary exists but the server did not start or stop as expected."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (bound to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], deadline: float) -> bool:
    """Poll ``condition`` until it is true or ``time.monotonic()`` passes ``deadline``."""
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_INTERVAL)


def tcp_accepts(port: int) -> bool:
    """Tell whether something accepts TCP connections on ``127.0.0.1:port``."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1):
            return True
    except OSError:
        return False


def file_size(path: Path) -> int:
    """Return the size of the file at ``path``, 0 if it cannot be read."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def log_tail(path: Path, offset: int = 0, lines: int = _LOG_TAIL_LINES) -> str:
    """Return the last ``lines`` lines written to the log at ``path`` after ``offset``.

    Args:
        path: The log file.
        offset: Where the part of interest starts (the file's size before a start).
        lines: How many lines to keep.

    Returns:
        The lines, or ``(empty)`` when there are none or the file cannot be read.
    """
    try:
        with path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
    except OSError:
        text = ""
    return "\n".join(text.strip().splitlines()[-lines:]) or "(empty)"


def process_alive(pid: int) -> bool:
    """Tell whether ``pid`` is a live (not zombie) process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        proc_stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # not Linux, or it just went away
        return True
    state = proc_stat.rsplit(")", 1)[-1].split()[0]
    return state not in {"Z", "X"}
