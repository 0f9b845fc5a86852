"""Real, throwaway Redis and PostgreSQL servers for the test suite.

The servers are started from local binaries (no Docker, no fakes) on a free loopback
port, live in private temporary directories (on ``/dev/shm`` when it is big enough) and
are torn down at the end of the session, even on failure. An ``atexit`` fallback, plus
SIGTERM turned into ``KeyboardInterrupt``, covers interrupted runs.

Fixtures (re-exported by ``tests/conftest.py``):

* ``redis_server`` (session): the running :class:`RedisServer`.
* ``redis_url`` (function): ``redis://127.0.0.1:PORT/0``; the server is (re)started if a
  previous test stopped it, and ``FLUSHALL`` is run so every test starts empty.
* ``postgres_server`` (session): the running :class:`PostgresServer`.
* ``postgres_url`` (function): ``postgresql+asyncpg://kit@127.0.0.1:PORT/test_N``, a fresh
  database created for this test (the server is restarted first if a previous test
  stopped it) and dropped after it. :func:`asyncpg_dsn` turns it into an asyncpg DSN.

Tests may stop and restart the servers: ports, and therefore URLs, never change.

When a binary is missing the fixtures skip the test, naming the binary; with
``KIT_REQUIRE_SERVICES=1`` in the environment they fail it instead, so CI cannot
silently lose the service-backed tests.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

__all__ = (
    "LOOPBACK",
    "POSTGRES_BINARIES",
    "POSTGRES_BINDIR_GLOBS",
    "REQUIRE_SERVICES_ENV",
    "STARTUP_TIMEOUT",
    "TMPFS_MIN_FREE",
    "OsUser",
    "PostgresServer",
    "RedisServer",
    "ServiceStartError",
    "asyncpg_dsn",
    "find_postgres_bindir",
    "find_postgres_os_user",
    "find_redis_server",
    "free_port",
    "make_temp_dir",
    "postgres_server",
    "postgres_url",
    "redis_server",
    "redis_url",
    "require_postgres_bindir",
    "require_postgres_os_user",
    "require_redis_server",
    "services_required",
    "skip_or_fail",
)

LOOPBACK = "127.0.0.1"
"""The only address the servers listen on."""

REQUIRE_SERVICES_ENV = "KIT_REQUIRE_SERVICES"
"""Environment variable that turns "binary missing" skips into failures (set it to ``1``)."""

POSTGRES_BINARIES = ("initdb", "pg_ctl", "postgres", "psql")
"""Programs that must all live in one PostgreSQL ``bin`` directory."""

POSTGRES_BINDIR_GLOBS: tuple[str, ...] = (
    "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
    "/usr/pgsql-*/bin",  # RHEL, Fedora (PGDG packages)
    "/usr/local/pgsql/bin",  # built from source
    "/opt/homebrew/opt/postgresql@*/bin",  # Homebrew on Apple silicon
    "/usr/local/opt/postgresql@*/bin",  # Homebrew on Intel
)
"""Fallback locations searched for PostgreSQL binaries; the newest version wins."""

TMPFS_MIN_FREE = 1 << 30
"""Free bytes ``/dev/shm`` needs before server directories go there (see :func:`make_temp_dir`)."""

STARTUP_TIMEOUT = 30.0
"""Seconds a server gets to come up (or shut down) before we give up."""

_POLL_INTERVAL = 0.02
_LOG_TAIL_LINES = 40
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class ServiceStartError(RuntimeError):
    """A server binary exists but the server did not start or stop as expected."""


# --------------------------------------------------------------------------------------
# Skip-or-fail policy and binary discovery
# --------------------------------------------------------------------------------------


def services_required() -> bool:
    """Tell whether service-backed tests are mandatory.

    Returns:
        ``True`` when ``KIT_REQUIRE_SERVICES`` is ``1`` (or ``true``/``yes``/``on``, any
        case), ``False`` when it is unset, empty or anything else.
    """
    value = os.environ.get(REQUIRE_SERVICES_ENV, "").strip().lower()
    return value in {"1", "true", "yes", "on"}


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the current test, or fail it when services are required.

    Args:
        reason: Why the service is unavailable; should name the missing binary.

    Raises:
        pytest.fail.Exception: When :func:`services_required` is true.
        pytest.skip.Exception: Otherwise.
    """
    if services_required():
        pytest.fail(f"{reason} ({REQUIRE_SERVICES_ENV}=1 makes this a failure)", pytrace=False)
    pytest.skip(f"{reason} (set {REQUIRE_SERVICES_ENV}=1 to fail instead of skipping)")


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_redis_server(path: str | None = None) -> Path | None:
    """Locate ``redis-server``.

    Args:
        path: A ``PATH``-style search string; defaults to the ``PATH`` environment variable.

    Returns:
        The absolute path of ``redis-server``, or ``None`` if it is not on the path.
    """
    found = shutil.which("redis-server", path=path)
    return Path(found).absolute() if found else None


def _complete_bindir(directory: Path) -> bool:
    return all(_is_executable(directory / name) for name in POSTGRES_BINARIES)


def _version_key(directory: Path) -> tuple[int, ...]:
    # "/usr/lib/postgresql/15/bin" -> (15,), "/usr/pgsql-9.6/bin" -> (9, 6); unversioned -> ()
    match = re.search(r"(\d+(?:\.\d+)*)$", directory.parent.name)
    return tuple(int(part) for part in match.group(1).split(".")) if match else ()


def _bindir_from_pg_config(path: str | None) -> Path | None:
    pg_config = shutil.which("pg_config", path=path)
    if pg_config is None:
        return None
    try:
        result = subprocess.run(
            [pg_config, "--bindir"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    output = result.stdout.strip()
    return Path(output) if result.returncode == 0 and output else None


def find_postgres_bindir(
    path: str | None = None, globs: Sequence[str] | None = None
) -> Path | None:
    """Locate a PostgreSQL ``bin`` directory holding all of :data:`POSTGRES_BINARIES`.

    The candidates are tried in this order: the directory of ``pg_ctl`` found on the
    path (symlinks resolved, so ``/usr/local/bin/pg_ctl -> /usr/lib/postgresql/15/bin``
    works), the output of ``pg_config --bindir``, then ``globs``, newest version first.

    Args:
        path: A ``PATH``-style search string; defaults to the ``PATH`` environment variable.
        globs: Fallback directory patterns; defaults to :data:`POSTGRES_BINDIR_GLOBS`.

    Returns:
        The first complete directory, or ``None`` if there is none.
    """
    candidates: list[Path] = []
    pg_ctl = shutil.which("pg_ctl", path=path)
    if pg_ctl is not None:
        candidates += [Path(pg_ctl).resolve().parent, Path(pg_ctl).absolute().parent]
    from_pg_config = _bindir_from_pg_config(path)
    if from_pg_config is not None:
        candidates.append(from_pg_config)
    patterns = POSTGRES_BINDIR_GLOBS if globs is None else globs
    globbed = [Path(match) for pattern in patterns for match in glob.glob(pattern)]
    candidates += sorted(globbed, key=_version_key, reverse=True)
    return next((c for c in candidates if _complete_bindir(c)), None)


@dataclass(frozen=True)
class OsUser:
    """An unprivileged operating-system account that runs PostgreSQL when we are root.

    Attributes:
        name: Login name.
        uid: User id.
        gid: Primary group id.
        groups: Supplementary group ids.
    """

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]


def find_postgres_os_user(candidates: Sequence[str] = ("postgres", "nobody")) -> OsUser | None:
    """Pick the account PostgreSQL runs as (it refuses to run as root).

    Args:
        candidates: Account names to try, in order of preference.

    Returns:
        The first existing non-root account, or ``None`` if there is none.
    """
    import pwd  # POSIX only: imported here so that this module imports everywhere

    for name in candidates:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            groups = tuple(os.getgrouplist(name, entry.pw_gid))
            return OsUser(name, entry.pw_uid, entry.pw_gid, groups)
    return None


def _is_root() -> bool:
    geteuid = getattr(os, "geteuid", None)  # absent on Windows
    return geteuid is not None and geteuid() == 0


def require_redis_server() -> Path:
    """Return the ``redis-server`` binary, or skip/fail the test (see :func:`skip_or_fail`).

    Returns:
        The absolute path of ``redis-server``.
    """
    binary = find_redis_server()
    if binary is None:
        skip_or_fail("redis-server not found on PATH (install the redis-server package)")
    return binary


def require_postgres_bindir() -> Path:
    """Return the PostgreSQL ``bin`` directory, or skip/fail the test.

    Returns:
        A directory holding :data:`POSTGRES_BINARIES`, see :func:`find_postgres_bindir`.
    """
    bindir = find_postgres_bindir()
    if bindir is None:
        skip_or_fail(
            f"PostgreSQL binaries ({', '.join(POSTGRES_BINARIES)}) not found: no pg_ctl on "
            f"PATH, no usable `pg_config --bindir`, nothing in {', '.join(POSTGRES_BINDIR_GLOBS)}"
        )
    return bindir


def require_postgres_os_user() -> OsUser | None:
    """Return the account PostgreSQL must run as, or skip/fail the test.

    Returns:
        ``None`` when we are not root (the server runs as the current user), otherwise the
        result of :func:`find_postgres_os_user`.
    """
    if not _is_root():
        return None
    user = find_postgres_os_user()
    if user is None:
        skip_or_fail("running as root and no unprivileged `postgres` user exists to run PostgreSQL")
    return user


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (bound to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def asyncpg_dsn(url: str) -> str:
    """Turn a SQLAlchemy ``postgresql+asyncpg://`` URL into a plain asyncpg DSN.

    Args:
        url: A URL such as the one returned by the ``postgres_url`` fixture.

    Returns:
        The same URL with the ``postgresql://`` scheme.
    """
    return re.sub(r"^postgresql\+asyncpg://", "postgresql://", url)


def _wait_until(condition: Callable[[], bool], deadline: float) -> bool:
    """Poll ``condition`` until it is true or ``time.monotonic()`` passes ``deadline``."""
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_INTERVAL)


def _tcp_accepts(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1):
            return True
    except OSError:
        return False


def _read_from(path: Path, offset: int) -> str:
    try:
        with path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")
    except OSError:
        return ""


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _tail(text: str, lines: int = _LOG_TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:]) or "(empty)"


def _process_alive(pid: int) -> bool:
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


def _traversable_by(path: Path, user: OsUser | None) -> bool:
    """Tell whether ``user`` (``None``: us) may traverse every directory down to ``path``."""
    if user is None:
        return os.access(path, os.W_OK | os.X_OK)
    for directory in [path, *path.parents]:
        info = directory.stat()
        if info.st_uid == user.uid:
            bit = stat.S_IXUSR
        elif info.st_gid in user.groups or info.st_gid == user.gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def make_temp_dir(prefix: str, user: OsUser | None = None) -> Path:
    """Create a private temporary directory for a server, owned by ``user`` if given.

    ``/dev/shm`` (a RAM-backed tmpfs on Linux) is preferred when it has at least
    :data:`TMPFS_MIN_FREE` bytes free: a PostgreSQL cluster is thousands of small files
    and ``CREATE DATABASE`` on a disk is several times slower. Otherwise the directory
    goes into :func:`tempfile.gettempdir`, or ``/tmp`` if ``user`` cannot reach that.

    Args:
        prefix: Name prefix of the directory.
        user: Account that must own and traverse the directory; ``None`` for us.

    Returns:
        The new directory (mode 0700).

    Raises:
        ServiceStartError: If no candidate directory is usable by ``user``.
    """
    candidates: list[Path] = []
    shm = Path("/dev/shm")  # noqa: S108 - only a base for mkdtemp
    with contextlib.suppress(OSError):
        if shm.is_dir() and shutil.disk_usage(shm).free >= TMPFS_MIN_FREE:
            candidates.append(shm)
    candidates += [Path(tempfile.gettempdir()), Path("/tmp")]  # noqa: S108 - base for mkdtemp
    base = next((c for c in candidates if c.is_dir() and _traversable_by(c, user)), None)
    if base is None:
        who = "us" if user is None else user.name
        raise ServiceStartError(f"no temporary directory is usable by {who}: {candidates}")
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    if user is not None:
        os.chown(directory, user.uid, user.gid)
    return directory


# Servers alive in this process, stopped at interpreter exit if the fixtures could not.
_LIVE: dict[int, RedisServer | PostgresServer] = {}
_OWNER_PID = os.getpid()
_SIGTERM_INSTALLED = False


@atexit.register
def _close_leftovers() -> None:
    if os.getpid() != _OWNER_PID:  # a forked child must not stop its parent's servers
        return
    for server in list(_LIVE.values()):
        with contextlib.suppress(Exception):
            server.close()


def _on_sigterm(signum: int, frame: object) -> None:
    # Once only: a second SIGTERM kills the process the default way.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt(f"signal {signum}")


def _register(server: RedisServer | PostgresServer) -> None:
    """Track a server for the ``atexit`` fallback.

    While servers are alive, SIGTERM (what CI sends on cancel or timeout) is turned into
    ``KeyboardInterrupt`` so that pytest tears the fixtures down and ``atexit`` runs;
    that happens only if nobody else handles SIGTERM and we are in the main thread.
    """
    global _SIGTERM_INSTALLED
    _LIVE[id(server)] = server
    if (
        not _SIGTERM_INSTALLED
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, _on_sigterm)
        _SIGTERM_INSTALLED = True


def _unregister(server: RedisServer | PostgresServer) -> None:
    """Forget a closed server; restore SIGTERM's default once none is left."""
    global _SIGTERM_INSTALLED
    _LIVE.pop(id(server), None)
    if not _LIVE and _SIGTERM_INSTALLED and threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _SIGTERM_INSTALLED = False


# --------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------


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


class RedisServer:
    """A ``redis-server`` child process on 127.0.0.1 without any persistence.

    The server runs in the foreground as a subprocess of the test process (not
    daemonized) with ``--save ''`` and ``--appendonly no``, its working directory and
    log in a private temporary directory. The port is chosen once, so :meth:`restart`
    brings it back on the same URL (with an empty dataset).

    Attributes:
        binary: The ``redis-server`` executable.
        host: Always ``127.0.0.1``.
        port: The TCP port; fixed for the object's lifetime once the server first started.
        startup_timeout: Seconds allowed for starting or stopping.
    """

    def __init__(
        self,
        binary: str | os.PathLike[str],
        *,
        port: int | None = None,
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        self.binary = Path(binary)
        self.host = LOOPBACK
        self.port = port if port is not None else free_port()
        self.startup_timeout = startup_timeout
        self._auto_port = port is None
        self._started_once = False
        self._directory: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"<RedisServer {self.url} running={self.running}>"

    def __enter__(self) -> RedisServer:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://{self.host}:{self.port}/0"

    @property
    def directory(self) -> Path | None:
        """The temporary directory (working dir and log), ``None`` before :meth:`start`."""
        return self._directory

    @property
    def log_path(self) -> Path | None:
        """The server's log file, ``None`` before :meth:`start`."""
        return None if self._directory is None else self._directory / "redis.log"

    @property
    def pid(self) -> int | None:
        """The server's pid if it is running, else ``None``."""
        return self._process.pid if self.running and self._process is not None else None

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

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

    def start(self) -> None:
        """Start the server and wait until it answers ``PING``; no-op if it is running.

        Before the first successful start an automatically chosen port that turns out to
        be taken is replaced by another free one (up to three attempts).

        Raises:
            ServiceStartError: If the server exits or does not answer in time; the message
                includes the end of its log.
        """
        if self.running:
            return
        if self._directory is None:
            self._directory = make_temp_dir("kit-redis-")
            _register(self)
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

    def _launch(self) -> None:
        assert self._directory is not None
        assert self.log_path is not None
        log_offset = _file_size(self.log_path)
        command = [
            str(self.binary),
            "--port", str(self.port),
            "--bind", self.host,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", str(self._directory),
            "--logfile", "",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self._directory,
            )
        process = self._process
        deadline = time.monotonic() + self.startup_timeout

        def ready() -> bool:
            # short PING timeout: whatever holds a taken port may accept and never answer
            return process.poll() is not None or self.ping(timeout=0.2)

        if _wait_until(ready, deadline) and process.poll() is None:
            return
        exited = process.poll() is not None
        self._kill()
        log_text = _tail(_read_from(self.log_path, log_offset))
        what = (
            f"exited with code {process.returncode} before answering PING"
            if exited
            else f"did not answer PING within {self.startup_timeout:g} s"
        )
        raise ServiceStartError(f"redis-server on {self.url} {what}; log:\n{log_text}")

    def _kill(self) -> None:
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
                self._kill()
        else:
            process.wait()
        self._process = None

    def restart(self) -> None:
        """Stop and start the server on the same port; the data is gone afterwards."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the server and delete its temporary directory."""
        try:
            self.stop()
        finally:
            if self._directory is not None:
                shutil.rmtree(self._directory, ignore_errors=True)
                self._directory = None
            _unregister(self)


# --------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------


def _conf_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    """Return ``name`` if it is a plain lower-case SQL identifier (safe to interpolate)."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain lower-case SQL identifier: {name!r}")
    return name


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1 with trust authentication.

    :meth:`start` runs ``initdb`` into a private temporary directory (on first use) and
    ``pg_ctl -w start``; :meth:`stop` runs ``pg_ctl -w -m fast stop``. The cluster's
    superuser is :attr:`user` (``kit``; a superuser, so tests may create databases,
    roles and extensions) and a database :attr:`database` (``kit``) is created for it.
    Only ``local`` (Unix socket inside the temporary directory) and ``host
    127.0.0.1/32`` connections are allowed, both with ``trust``; durability is switched
    off (``fsync``, ``synchronous_commit``, ``full_page_writes``) for speed.

    PostgreSQL refuses to run as root: when we are root every PostgreSQL program runs
    as :attr:`os_user` (normally the ``postgres`` system account) through
    ``subprocess``'s ``user=``/``group=``, and the temporary directory is chowned to it.
    Data survives :meth:`restart`, which keeps the port and therefore the URLs.

    Attributes:
        bindir: Directory holding ``initdb``, ``pg_ctl``, ``postgres`` and ``psql``.
        os_user: Account the server runs as, ``None`` for the current user.
        host: Always ``127.0.0.1``.
        port: The TCP port; fixed for the object's lifetime once the server first started.
        user: Database superuser name used in the URLs.
        database: Database created for :attr:`url` / :attr:`dsn`.
        startup_timeout: Seconds allowed for starting or stopping.
    """

    def __init__(
        self,
        bindir: str | os.PathLike[str],
        *,
        os_user: OsUser | None = None,
        port: int | None = None,
        user: str = "kit",
        database: str = "kit",
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        self.bindir = Path(bindir)
        self.os_user = os_user
        self.host = LOOPBACK
        self.port = port if port is not None else free_port()
        self.user = _identifier(user)
        self.database = _identifier(database)
        self.startup_timeout = startup_timeout
        self._auto_port = port is None
        self._started_once = False
        self._directory: Path | None = None
        self._server_version = 0
        self._test_databases = itertools.count(1)

    def __repr__(self) -> str:
        return f"<PostgresServer {self.dsn} running={self.running}>"

    def __enter__(self) -> PostgresServer:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- URLs ---------------------------------------------------------------------------

    def url_for(self, database: str) -> str:
        """Return the SQLAlchemy async URL of ``database`` on this server.

        Args:
            database: Database name.

        Returns:
            ``postgresql+asyncpg://USER@127.0.0.1:PORT/DATABASE``.
        """
        return f"postgresql+asyncpg://{self.user}@{self.host}:{self.port}/{database}"

    def dsn_for(self, database: str) -> str:
        """Return the plain asyncpg/libpq DSN of ``database`` on this server.

        Args:
            database: Database name.

        Returns:
            ``postgresql://USER@127.0.0.1:PORT/DATABASE``.
        """
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    @property
    def url(self) -> str:
        """SQLAlchemy async URL of :attr:`database`."""
        return self.url_for(self.database)

    @property
    def dsn(self) -> str:
        """Plain asyncpg DSN of :attr:`database`."""
        return self.dsn_for(self.database)

    # -- Paths and state ----------------------------------------------------------------

    @property
    def directory(self) -> Path | None:
        """The temporary directory (also the Unix socket directory), ``None`` before start."""
        return self._directory

    @property
    def data_dir(self) -> Path | None:
        """The cluster's data directory, ``None`` before :meth:`start`."""
        return None if self._directory is None else self._directory / "data"

    @property
    def log_path(self) -> Path | None:
        """The server log written by ``pg_ctl -l``, ``None`` before :meth:`start`."""
        return None if self._directory is None else self._directory / "postgres.log"

    @property
    def pid(self) -> int | None:
        """The postmaster's pid if the server is running, else ``None``."""
        if self.data_dir is None:
            return None
        try:
            first_line = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
            pid = int(first_line)
        except (OSError, ValueError):
            return None
        return pid if _process_alive(pid) else None

    @property
    def running(self) -> bool:
        """Whether the postmaster is alive."""
        return self.pid is not None

    # -- Running programs ---------------------------------------------------------------

    def _run(
        self, program: str, *args: str, timeout: float | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL program from :attr:`bindir` as :attr:`os_user`."""
        assert self._directory is not None
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env.update(LC_ALL="C", HOME=str(self._directory))
        user = self.os_user
        return subprocess.run(
            [str(self.bindir / program), *args],
            capture_output=True,
            text=True,
            cwd=self._directory,
            env=env,
            timeout=timeout if timeout is not None else self.startup_timeout + 5,
            check=False,
            user=None if user is None else user.uid,
            group=None if user is None else user.gid,
            extra_groups=None if user is None else list(user.groups),
        )

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run SQL with ``psql`` over the Unix socket as the superuser.

        Args:
            sql: One or more statements (run outside a transaction block).
            database: Database to connect to.

        Returns:
            psql's unaligned, tuples-only output.

        Raises:
            ServiceStartError: If psql fails.
        """
        assert self._directory is not None
        result = self._run(
            "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", str(self._directory), "-p", str(self.port),
            "-U", self.user, "-d", database, "-c", sql,
        )  # fmt: skip
        if result.returncode != 0:
            raise ServiceStartError(f"psql failed on {database!r}: {sql}\n{result.stderr}")
        return result.stdout

    def create_database(self, name: str) -> str:
        """Create an empty database owned by :attr:`user`.

        Args:
            name: Plain lower-case identifier.

        Returns:
            The SQLAlchemy async URL of the new database.
        """
        # FILE_COPY (PostgreSQL 15+) copies the template's files instead of WAL-logging
        # every page: faster for a small template and it leaves almost no WAL behind.
        strategy = " STRATEGY FILE_COPY" if self._server_version >= 150000 else ""
        self.psql(f'CREATE DATABASE "{_identifier(name)}" OWNER "{self.user}"{strategy}')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database if it exists, disconnecting its clients (``WITH (FORCE)``).

        Args:
            name: Plain lower-case identifier.
        """
        self.psql(f'DROP DATABASE IF EXISTS "{_identifier(name)}" WITH (FORCE)')

    def new_test_database(self) -> str:
        """Create the next ``test_N`` database.

        Returns:
            Its name.
        """
        name = f"test_{next(self._test_databases)}"
        self.create_database(name)
        return name

    # -- Lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Initialise the cluster if needed, start it and wait for TCP connections.

        A no-op if the server is running. Before the first successful start an
        automatically chosen port that turns out to be taken is replaced by another free
        one (up to three attempts).

        Raises:
            ServiceStartError: If ``initdb`` or ``pg_ctl`` fail or the server does not
                accept connections in time; the message includes the end of its log.
        """
        if self.running:
            return
        first_start = self._directory is None
        if first_start:
            self._initdb()
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
            self._server_version = int(self.psql("SHOW server_version_num").strip())
            self.create_database(self.database)

    def _initdb(self) -> None:
        self._directory = make_temp_dir("kit-pg-", self.os_user)
        _register(self)
        assert self.data_dir is not None
        result = self._run(
            "initdb",
            "--pgdata", str(self.data_dir),
            "--username", self.user,
            "--auth", "trust",
            "--encoding", "UTF8",
            "--locale", "C",
            "--no-sync",
        )  # fmt: skip
        if result.returncode != 0:
            raise ServiceStartError(
                f"initdb failed (exit code {result.returncode}):\n{result.stdout}{result.stderr}"
            )
        settings = {
            "listen_addresses": _conf_string(self.host),
            "unix_socket_directories": _conf_string(str(self._directory)),
            "max_connections": "100",
            "shared_buffers": "32MB",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "min_wal_size": "32MB",  # keep pg_wal small, it may live in RAM
            "max_wal_size": "64MB",
            "timezone": "'UTC'",
        }
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# fastapi-kit test server\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(
            "# TYPE  DATABASE  USER  ADDRESS       METHOD\n"
            "local   all       all                 trust\n"
            "host    all       all   127.0.0.1/32  trust\n"
        )
        if self.os_user is not None:
            os.chown(hba, self.os_user.uid, self.os_user.gid)

    def _launch(self) -> None:
        assert self.data_dir is not None
        assert self.log_path is not None
        log_offset = _file_size(self.log_path)
        deadline = time.monotonic() + self.startup_timeout
        result = self._run(
            "pg_ctl", "start", "--wait", "--silent",
            "--timeout", str(max(1, round(self.startup_timeout))),
            "--pgdata", str(self.data_dir),
            "--log", str(self.log_path),
            "--options", f"-p {self.port}",
        )  # fmt: skip
        if result.returncode == 0 and _wait_until(lambda: _tcp_accepts(self.port), deadline):
            return
        with contextlib.suppress(ServiceStartError):
            self.stop()
        log_text = _tail(_read_from(self.log_path, log_offset))
        raise ServiceStartError(
            f"PostgreSQL did not start on {self.dsn} within {self.startup_timeout:g} s "
            f"(pg_ctl exit code {result.returncode}: {result.stderr.strip()}); log:\n{log_text}"
        )

    def stop(self) -> None:
        """Stop the server with ``pg_ctl -w -m fast stop``; no-op if it is not running.

        Falls back to signalling the postmaster (SIGQUIT, then SIGKILL) if ``pg_ctl``
        fails.

        Raises:
            ServiceStartError: If the postmaster survives even SIGKILL.
        """
        pid = self.pid
        if pid is None:
            return
        assert self.data_dir is not None
        deadline = time.monotonic() + self.startup_timeout
        self._run(
            "pg_ctl", "stop", "--wait", "--silent", "--mode", "fast",
            "--timeout", str(max(1, round(self.startup_timeout))),
            "--pgdata", str(self.data_dir),
        )  # fmt: skip
        if _wait_until(lambda: not _process_alive(pid), min(deadline, time.monotonic() + 1)):
            return
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            if _wait_until(lambda: not _process_alive(pid), time.monotonic() + 5):
                return
        raise ServiceStartError(f"PostgreSQL postmaster {pid} did not stop")

    def restart(self) -> None:
        """Stop and start the server on the same port; data and URLs stay valid."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the server and delete its temporary directory (cluster included)."""
        try:
            if self._directory is not None:
                self.stop()
        finally:
            if self._directory is not None:
                shutil.rmtree(self._directory, ignore_errors=True)
                self._directory = None
            _unregister(self)


# --------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """Session-wide :class:`RedisServer`; skips (or fails) if ``redis-server`` is missing.

    Yields:
        The started server. Tests may stop or restart it; ``redis_url`` brings it back.
    """
    server = RedisServer(require_redis_server())
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """URL of the session's Redis, running and empty (``FLUSHALL``) for this test.

    A previous test may have stopped the server or locked it (``requirepass``): see
    :meth:`RedisServer.reset`.

    Returns:
        ``redis://127.0.0.1:PORT/0``.
    """
    redis_server.reset()
    return redis_server.url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Session-wide :class:`PostgresServer`; skips (or fails) if PostgreSQL is missing.

    When the tests run as root the server runs as the ``postgres`` system user.

    Yields:
        The started server. Tests may stop or restart it; ``postgres_url`` brings it back.
    """
    server = PostgresServer(require_postgres_bindir(), os_user=require_postgres_os_user())
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """SQLAlchemy async URL of a fresh, empty database created for this test.

    Strategy: every test gets its own ``CREATE DATABASE test_N`` (cloned from
    ``template1``, tens of milliseconds), so schemas, extensions, sequences and data
    can never leak between tests. The database is dropped ``WITH (FORCE)`` afterwards,
    disconnecting anything the test left open, unless the test left the server stopped.
    Use :func:`asyncpg_dsn` to get the plain asyncpg DSN.

    Yields:
        ``postgresql+asyncpg://kit@127.0.0.1:PORT/test_N``.
    """
    postgres_server.start()  # a previous test may have stopped it
    name = postgres_server.new_test_database()
    yield postgres_server.url_for(name)
    if postgres_server.running:
        postgres_server.drop_database(name)
