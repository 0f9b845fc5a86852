"""A throwaway PostgreSQL cluster with trust authentication: :class:`PostgresServer`."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .common import STARTUP_TIMEOUT, ServiceStartError, process_alive, tcp_accepts, wait_until
from .managed import ManagedServer

if TYPE_CHECKING:
    from .binaries import OsUser

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def asyncpg_dsn(url: str) -> str:
    """Turn a SQLAlchemy ``postgresql+asyncpg://`` URL into a plain asyncpg DSN.

    Args:
        url: A URL such as the one returned by the ``postgres_url`` fixture.

    Returns:
        The same URL with the ``postgresql://`` scheme.
    """
    return re.sub(r"^postgresql\+asyncpg://", "postgresql://", url)


def _conf_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    """Return ``name`` if it is a plain lower-case SQL identifier (safe to interpolate)."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain lower-case SQL identifier: {name!r}")
    return name


class PostgresServer(ManagedServer):
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
        user: Database superuser name used in the URLs.
        database: Database created for :attr:`url` / :attr:`dsn`.

    ``host``, ``port`` and ``startup_timeout`` are those of :class:`ManagedServer`.
    """

    directory_prefix = "kit-pg-"
    log_name = "postgres.log"

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
        super().__init__(port=port, startup_timeout=startup_timeout)
        self.bindir = Path(bindir)
        self.os_user = os_user
        self.user = _identifier(user)
        self.database = _identifier(database)
        self._server_version = 0
        self._test_databases = itertools.count(1)

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

    @property
    def address(self) -> str:
        """The server's :attr:`dsn`."""
        return self.dsn

    # -- Paths and state ----------------------------------------------------------------

    @property
    def data_dir(self) -> Path | None:
        """The cluster's data directory, ``None`` before :meth:`start`."""
        return None if self._directory is None else self._directory / "data"

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
        return pid if process_alive(pid) else None

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

    def _owner(self) -> OsUser | None:
        return self.os_user

    def _prepare(self) -> None:  # initdb
        assert self._directory is not None
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

    def _spawn(self, deadline: float) -> str | None:
        assert self.data_dir is not None
        assert self.log_path is not None
        result = self._run(
            "pg_ctl", "start", "--wait", "--silent",
            "--timeout", str(max(1, round(self.startup_timeout))),
            "--pgdata", str(self.data_dir),
            "--log", str(self.log_path),
            "--options", f"-p {self.port}",
        )  # fmt: skip
        if result.returncode == 0 and wait_until(lambda: tcp_accepts(self.port), deadline):
            return None
        return (
            f"PostgreSQL did not start on {self.dsn} within {self.startup_timeout:g} s "
            f"(pg_ctl exit code {result.returncode}: {result.stderr.strip()})"
        )

    def _abort(self) -> None:
        with contextlib.suppress(ServiceStartError):
            self.stop()

    def _after_first_start(self) -> None:
        self._server_version = int(self.psql("SHOW server_version_num").strip())
        self.create_database(self.database)

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
        if wait_until(lambda: not process_alive(pid), min(deadline, time.monotonic() + 1)):
            return
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            if wait_until(lambda: not process_alive(pid), time.monotonic() + 5):
                return
        raise ServiceStartError(f"PostgreSQL postmaster {pid} did not stop")
