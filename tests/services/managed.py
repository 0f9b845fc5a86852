"""The life cycle every throwaway server shares: :class:`ManagedServer`.

A subclass says how to launch its server and what "ready" means (:meth:`_spawn`), how
to stop it, and what to do before its first start and after it; the base class gives
it a fixed port, a private temporary directory registered for clean-up (see
``cleanup``), start with retries on a taken automatic port, the log's tail in every
start error, restart and close, and use as a context manager.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar, Self

from .cleanup import make_temp_dir, register, unregister
from .common import LOOPBACK, STARTUP_TIMEOUT, ServiceStartError, file_size, free_port, log_tail

if TYPE_CHECKING:
    from pathlib import Path

    from .binaries import OsUser


class ManagedServer(ABC):
    """A server child process on 127.0.0.1, living in a private temporary directory.

    The port is chosen once (:func:`free_port` unless given), so :meth:`restart` brings
    the server back on the same URL.

    Attributes:
        host: Always ``127.0.0.1``.
        port: The TCP port; fixed for the object's lifetime once the server first started.
        startup_timeout: Seconds allowed for starting or stopping.
    """

    directory_prefix: ClassVar[str]
    """Name prefix of the temporary directory."""

    log_name: ClassVar[str]
    """File name of the server's log in the temporary directory."""

    def __init__(self, *, port: int | None, startup_timeout: float = STARTUP_TIMEOUT) -> None:
        self.host = LOOPBACK
        self.port = port if port is not None else free_port()
        self.startup_timeout = startup_timeout
        self._auto_port = port is None
        self._started_once = False
        self._directory: Path | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.address} running={self.running}>"

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- What subclasses say ------------------------------------------------------------

    @property
    @abstractmethod
    def address(self) -> str:
        """The URL that names the server in messages."""

    @property
    @abstractmethod
    def pid(self) -> int | None:
        """The server's pid if it is running, else ``None``."""

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self.pid is not None

    @abstractmethod
    def _spawn(self, deadline: float) -> str | None:
        """Launch the server and wait until it is ready or ``time.monotonic()`` passes ``deadline``.

        Returns:
            ``None`` once it is ready, else what went wrong (the start error's message,
            before the log's tail).
        """

    @abstractmethod
    def _abort(self) -> None:
        """Stop a server that did not start properly (its error is raised afterwards)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop the server; no-op if it is not running."""

    def _owner(self) -> OsUser | None:
        """Return the account that must own the temporary directory (``None``: us)."""
        return None

    def _prepare(self) -> None:  # noqa: B027 - a hook; doing nothing is a fine default
        """Set up the fresh temporary directory before the first launch (nothing by default)."""

    def _after_first_start(self) -> None:  # noqa: B027 - likewise
        """Finish setting up after the first successful start (nothing by default)."""

    # -- Paths --------------------------------------------------------------------------

    @property
    def directory(self) -> Path | None:
        """The temporary directory, ``None`` before :meth:`start` and after :meth:`close`."""
        return self._directory

    @property
    def log_path(self) -> Path | None:
        """The server's log file, ``None`` before :meth:`start`."""
        return None if self._directory is None else self._directory / self.log_name

    # -- Life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the server and wait until it is ready; no-op if it is running.

        The temporary directory is created (and registered for clean-up) on the first
        call. Before the first successful start an automatically chosen port that turns
        out to be taken is replaced by another free one (up to three attempts).

        Raises:
            ServiceStartError: If the server does not start or get ready in time; the
                message includes the end of its log.
        """
        if self.running:
            return
        first_start = self._directory is None
        if first_start:
            self._directory = make_temp_dir(self.directory_prefix, self._owner())
            register(self)
            self._prepare()
        attempts = 1 if self._started_once or not self._auto_port else 3
        for attempt in range(1, attempts + 1):
            try:
                self._launch()
            except ServiceStartError as error:
                if attempt < attempts and "Address already in use" in str(error):
                    self.port = free_port()
                    continue
                raise
            break
        self._started_once = True
        if first_start:
            self._after_first_start()

    def _launch(self) -> None:
        assert self.log_path is not None
        log_offset = file_size(self.log_path)
        failure = self._spawn(time.monotonic() + self.startup_timeout)
        if failure is None:
            return
        self._abort()
        raise ServiceStartError(f"{failure}; log:\n{log_tail(self.log_path, log_offset)}")

    def restart(self) -> None:
        """Stop and start the server on the same port."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the server and delete its temporary directory."""
        try:
            if self._directory is not None:
                self.stop()
        finally:
            if self._directory is not None:
                shutil.rmtree(self._directory, ignore_errors=True)
                self._directory = None
            unregister(self)


class ChildProcessServer(ManagedServer):
    """A :class:`ManagedServer` that is one child process of ours (``_process``).

    Subclasses start it in :meth:`_spawn` with :meth:`_popen`; its pid, the abort of a
    failed start and :meth:`stop` are the same for all of them.
    """

    def __init__(self, *, port: int | None, startup_timeout: float = STARTUP_TIMEOUT) -> None:
        super().__init__(port=port, startup_timeout=startup_timeout)
        self._process: subprocess.Popen[bytes] | None = None

    def _popen(self, command: list[str]) -> subprocess.Popen[bytes]:
        """Start ``command`` in the server's directory, its output appended to the log."""
        assert self._directory is not None
        assert self.log_path is not None
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self._directory,
            )
        return self._process

    @property
    def pid(self) -> int | None:
        """The server's pid if it is running, else ``None``."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def _abort(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()

    def stop(self) -> None:
        """Stop the server (SIGTERM, SIGKILL after the timeout); no-op if it is not running."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=self.startup_timeout)
            except subprocess.TimeoutExpired:
                self._abort()  # SIGKILL
        else:
            process.wait()
        self._process = None
