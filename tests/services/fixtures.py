"""The pytest fixtures: a session's Redis, PostgreSQL and Prometheus servers, per-test views.

A pytest plugin: ``tests/conftest.py`` lists it in ``pytest_plugins``.

* ``redis_server`` (session): the running :class:`~services.RedisServer`.
* ``redis_url`` (function): ``redis://127.0.0.1:PORT/0``; the server is (re)started if a
  previous test stopped it, and ``FLUSHALL`` is run so every test starts empty.
* ``postgres_server`` (session): the running :class:`~services.PostgresServer`.
* ``postgres_url`` (function): ``postgresql+asyncpg://kit@127.0.0.1:PORT/test_N``, a fresh
  database created for this test (the server is restarted first if a previous test
  stopped it) and dropped after it. :func:`~services.asyncpg_dsn` turns it into an
  asyncpg DSN.
* ``prometheus_server`` (session): the running :class:`~services.PrometheusServer`.
* ``prometheus`` (function): the same server, (re)started if needed, with no scrape jobs
  and no stored series (:meth:`~services.PrometheusServer.reset`). Mark such tests
  ``@pytest.mark.prometheus``.

Tests may stop and restart the servers: ports, and therefore URLs, never change. When a
binary is missing the fixtures skip the test, or fail it with ``KIT_REQUIRE_SERVICES=1``
(see ``binaries``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from .binaries import (
    require_postgres_bindir,
    require_postgres_os_user,
    require_prometheus,
    require_redis_server,
)
from .postgres import PostgresServer
from .prometheus import PrometheusServer
from .redis import RedisServer

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """Session-wide :class:`RedisServer`; skips (or fails) if ``redis-server`` is missing.

    Yields:
        The started server. Tests may stop or restart it; ``redis_url`` brings it back.
    """
    with RedisServer(require_redis_server()) as server:  # closed even if it fails to start
        yield server


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
    with server:  # closed even if it fails to start
        yield server


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


@pytest.fixture(scope="session")
def prometheus_server() -> Iterator[PrometheusServer]:
    """Session-wide :class:`PrometheusServer`; skips (or fails) if ``prometheus`` is missing.

    It listens on its own free port with its own configuration and TSDB in a temporary
    directory: a system Prometheus (say on 9090) is neither needed nor touched.

    Yields:
        The started server. Tests may stop or restart it; ``prometheus`` brings it back.
    """
    with PrometheusServer(require_prometheus()) as server:  # closed even if it fails to start
        yield server


@pytest.fixture
def prometheus(prometheus_server: PrometheusServer) -> PrometheusServer:
    """The session's Prometheus, running, with no scrape jobs and no series, for this test.

    Point it at a target with :meth:`PrometheusServer.scrape`, then
    :meth:`~PrometheusServer.wait_for_scrapes` and :meth:`~PrometheusServer.query`.

    Returns:
        The server after :meth:`PrometheusServer.reset`.
    """
    prometheus_server.reset()
    return prometheus_server
