"""Where rendered log lines go: a writer that batches flushes per event-loop turn."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import TextIO

    from structlog.typing import EventDict, WrappedLogger

__all__ = ("LineWriter", "LineWriterFactory", "UTCTimestamper")


class LineWriter:
    """A structlog logger that writes each rendered event as one line.

    Inside a running event loop, the lines logged during one turn of the loop are
    collected and written with a single write and flush at the end of that turn, so
    the access lines of all requests finishing together cost one system call, even
    on an unbuffered stream (``PYTHONUNBUFFERED=1``). Outside a loop (start-up,
    worker threads) every line is written and flushed at once. A line is never held
    past the loop turn it was logged in.

    Records of the standard library's loggers (uvicorn, SQLAlchemy, your own) go
    through ``write_now``: they are
    rare, and some are a process's last words. Uvicorn logs "Application shutdown
    complete" and then re-raises the SIGTERM it caught, which ends the process
    before the loop turns again.

    Args:
        file: The text stream to write to.
    """

    def __init__(self, file: TextIO) -> None:
        self._file = file
        self._lock = threading.Lock()
        self._pending: list[str] = []

    def msg(self, message: str) -> None:
        """Write ``message`` as one line."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            with self._lock:
                self._write(message + "\n")
            return
        with self._lock:
            self._pending.append(message)
            if len(self._pending) > 1:
                return  # the flush for this turn is already scheduled
        loop.call_soon(self.flush)

    def write_now(self, message: str) -> None:
        """Write the lines collected so far, then ``message``, at once."""
        with self._lock:
            self._pending.append(message)
            self._pending.append("")  # the final newline
            lines, self._pending = self._pending, []
            self._write("\n".join(lines))

    def flush(self) -> None:
        """Write out the lines collected so far."""
        with self._lock:
            if self._pending:
                self._pending.append("")  # the final newline
                lines, self._pending = self._pending, []
                self._write("\n".join(lines))

    def _write(self, text: str) -> None:
        self._file.write(text)
        self._file.flush()

    log = debug = info = warn = warning = msg
    err = error = critical = exception = fatal = msg


class _WriterHandler(logging.Handler):
    """A stdlib handler that hands formatted records to a ``LineWriter`` (one order)."""

    def __init__(self, writer: LineWriter) -> None:
        super().__init__()
        self._writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._writer.write_now(self.format(record))
        except Exception:  # noqa: BLE001  # logging must never raise into the app
            self.handleError(record)


class LineWriterFactory:
    """Hands structlog the one ``LineWriter`` of a stream; ``handler()`` for stdlib logging."""

    def __init__(self, file: TextIO) -> None:
        self.writer = LineWriter(file)

    def __call__(self, *_args: Any) -> LineWriter:
        """Return the shared writer (structlog passes the logger name, unused)."""
        return self.writer

    def handler(self) -> logging.Handler:
        """A stdlib logging handler writing through the same writer, in the same order."""
        return _WriterHandler(self.writer)


class UTCTimestamper:
    """Add ``timestamp``: ISO 8601 in UTC with microseconds, e.g. ``2026-11-27T09:30:00.000300Z``.

    The same format as ``structlog.processors.TimeStamper(fmt="iso", utc=True)``; the
    date-and-seconds part is formatted once per second instead of once per event.
    """

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, _logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        """Stamp ``event_dict``."""
        second, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        event_dict["timestamp"] = f"{self._prefix}.{nanoseconds // 1000:06d}Z"
        return event_dict
