"""Real, throwaway Redis, PostgreSQL and Prometheus servers for the tests (and benchmarks).

The servers are started from local binaries (no Docker, no fakes) on a free loopback
port, live in private temporary directories (on ``/dev/shm`` when it is big enough) and
are torn down at the end of the session, even on failure. An ``atexit`` fallback, plus
SIGTERM turned into ``KeyboardInterrupt``, covers interrupted runs.

One module a concern:

* ``binaries``: finding ``redis-server``, ``prometheus``, PostgreSQL's ``bin`` directory
  and the account PostgreSQL runs as; skipping (or failing) a test without them.
* ``common``: the loopback address, :class:`ServiceStartError`, :func:`free_port`,
  polling, log tails.
* ``cleanup``: the servers' temporary directories; stopping servers left running.
* ``managed``: :class:`ManagedServer`, the life cycle every server shares (start and
  wait until ready, the log's tail in errors, stop, restart, registration for clean-up),
  and :class:`ChildProcessServer`, its pid and stop for a server that is one child
  process (Redis, Prometheus).
* ``redis``: :class:`RedisServer`; ``postgres``: :class:`PostgresServer`;
  ``prometheus``: :class:`PrometheusServer`.
* ``fixtures``: the pytest plugin (``redis_server``, ``redis_url``, ``postgres_server``,
  ``postgres_url``, ``prometheus_server``, ``prometheus``), listed in ``pytest_plugins``
  by ``tests/conftest.py``.

This package re-exports the names tests use (``from services import RedisServer``).
Only ``fixtures`` imports pytest at import time, and this package does not import it:
``bench/run.py`` imports the package (as ``tests.services``) to start its Redis.
"""

from .binaries import (
    POSTGRES_BINARIES,
    POSTGRES_BINDIR_GLOBS,
    REQUIRE_SERVICES_ENV,
    OsUser,
    find_postgres_bindir,
    find_postgres_os_user,
    find_prometheus,
    find_redis_server,
    require_postgres_bindir,
    require_postgres_os_user,
    require_prometheus,
    require_redis_server,
    services_required,
    skip_or_fail,
)
from .cleanup import TMPFS_MIN_FREE, make_temp_dir
from .common import (
    LOOPBACK,
    STARTUP_TIMEOUT,
    ServiceStartError,
    free_port,
    log_tail,
    process_alive,
    wait_until,
)
from .managed import ManagedServer
from .postgres import PostgresServer, asyncpg_dsn
from .prometheus import PrometheusError, PrometheusServer
from .redis import RedisServer

_process_alive = process_alive  # its name when this package was one module

__all__ = (
    "LOOPBACK",
    "POSTGRES_BINARIES",
    "POSTGRES_BINDIR_GLOBS",
    "REQUIRE_SERVICES_ENV",
    "STARTUP_TIMEOUT",
    "TMPFS_MIN_FREE",
    "ManagedServer",
    "OsUser",
    "PostgresServer",
    "PrometheusError",
    "PrometheusServer",
    "RedisServer",
    "ServiceStartError",
    "asyncpg_dsn",
    "find_postgres_bindir",
    "find_postgres_os_user",
    "find_prometheus",
    "find_redis_server",
    "free_port",
    "log_tail",
    "make_temp_dir",
    "process_alive",
    "require_postgres_bindir",
    "require_postgres_os_user",
    "require_prometheus",
    "require_redis_server",
    "services_required",
    "skip_or_fail",
    "wait_until",
)
