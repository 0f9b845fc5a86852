"""A throwaway ``redis-server`` without persistence: :class:`RedisServer`."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING

from .common import LOOPBACK, STARTUP_TIMEOUT, ServiceStartError, wait_until
from .managed import ChildProcessServer

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence


def _redis_command(port: int, *args: str, timeout: float = 2.0) -> bytes:
    """Send one command over RESP and return the first line of the reply."""
    payload = f"*{len(args)}\r\n".encode()
    for arg in args:
        data = arg.encode()
        payload += b"$%d\r\n%s\r\n" % (len(data), data)
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as sock:
        sock.sendall(payload)
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.strip()


class RedisServer(ChildProcessServer):
    """A ``redis-server`` child process on 127.0.0.1 without any persistence.

    The server runs in the foreground as a subprocess of this process (not daemonized)
    with ``--save ''`` and ``--appendonly no``, its working directory and log in a
    private temporary directory. The port is chosen once, so :meth:`restart` brings it
    back on the same URL (with an empty dataset).

    Attributes:
        binary: The ``redis-server`` executable.
        prefix: What the server is started through, such as ``taskset -c 1`` (empty:
            nothing).

    ``host``, ``port`` and ``startup_timeout`` are those of :class:`ManagedServer`.
    """

    directory_prefix = "kit-redis-"
    log_name = "redis.log"

    def __init__(
        self,
        binary: str | os.PathLike[str],
        *,
        port: int | None = None,
        startup_timeout: float = STARTUP_TIMEOUT,
        prefix: Sequence[str] = (),
    ) -> None:
        super().__init__(port=port, startup_timeout=startup_timeout)
        self.binary = Path(binary)
        self.prefix = tuple(prefix)

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://{self.host}:{self.port}/0"

    @property
    def address(self) -> str:
        """The server's :attr:`url`."""
        return self.url

    def ping(self, timeout: float = 1.0) -> bool:
        """Tell whether the server answers ``PING`` with ``+PONG``.

        Args:
            timeout: Seconds to wait for the connection and for the answer.
        """
        try:
            return _redis_command(self.port, "PING", timeout=timeout) == b"+PONG"
        except OSError:
            return False

    def flushall(self) -> None:
        """Delete every key in every database.

        Raises:
            ServiceStartError: If the server refuses the command.
        """
        reply = _redis_command(self.port, "FLUSHALL")
        if reply != b"+OK":
            raise ServiceStartError(f"FLUSHALL on {self.url} answered {reply!r}")

    def reset(self) -> None:
        """Make sure the server runs and holds no keys.

        Starts the server if needed and runs ``FLUSHALL``; if the server refuses or does
        not answer (say a test set ``requirepass`` or paused clients) it is restarted,
        which also brings back the default configuration.
        """
        self.start()
        try:
            self.flushall()
        except (OSError, ServiceStartError):
            self.restart()

    def _spawn(self, deadline: float) -> str | None:
        assert self._directory is not None
        command = [
            *self.prefix,
            str(self.binary),
            "--port", str(self.port),
            "--bind", self.host,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", str(self._directory),
            "--logfile", "",
        ]  # fmt: skip
        process = self._popen(command)

        def ready() -> bool:
            # short PING timeout: whatever holds a taken port may accept and never answer
            return process.poll() is not None or self.ping(timeout=0.2)

        if wait_until(ready, deadline) and process.poll() is None:
            return None
        what = (
            f"exited with code {process.returncode} before answering PING"
            if process.poll() is not None
            else f"did not answer PING within {self.startup_timeout:g} s"
        )
        return f"redis-server on {self.url} {what}"
