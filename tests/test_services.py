"""The real-server fixtures behave the way service-backed tests rely on."""

from __future__ import annotations

import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

import services
from services import (
    PostgresServer,
    RedisServer,
    ServiceStartError,
    asyncpg_dsn,
    find_postgres_bindir,
    find_postgres_os_user,
    find_redis_server,
    require_postgres_bindir,
    require_postgres_os_user,
    require_redis_server,
    services_required,
    skip_or_fail,
)


def python_path() -> str:
    """PYTHONPATH for a child interpreter that imports ``services``."""
    tests_dir = str(Path(services.__file__).parent.parent)
    return os.pathsep.join(filter(None, [tests_dir, os.environ.get("PYTHONPATH")]))


def redis_client(url: str) -> redis.asyncio.Redis:
    """A client that reports connection errors at once instead of retrying with backoff."""
    return redis.asyncio.Redis.from_url(url, retry=Retry(NoBackoff(), 0), socket_timeout=5)


# --------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------


@pytest.mark.redis
def test_redis_server_listens_on_loopback(redis_server: RedisServer, redis_url: str) -> None:
    assert redis_url == redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    assert redis_server.running
    assert redis_server.ping()
    assert redis_server.directory is not None
    assert redis_server.directory.is_dir()


@pytest.mark.redis
async def test_redis_set_get(redis_url: str) -> None:
    client = redis_client(redis_url)
    try:
        assert await client.set("greeting", "hello")
        assert await client.get("greeting") == b"hello"
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_redis_stop_fails_connections_and_restart_recovers(
    redis_server: RedisServer, redis_url: str
) -> None:
    client = redis_client(redis_url)
    try:
        await client.set("before", "1")

        redis_server.stop()
        assert not redis_server.running
        with pytest.raises(redis.exceptions.ConnectionError):
            await client.ping()  # the pooled connection is gone...
        fresh = redis_client(redis_url)
        try:
            with pytest.raises(redis.exceptions.ConnectionError):
                await fresh.ping()  # ...and nothing accepts new ones
        finally:
            await fresh.aclose()

        redis_server.restart()
        assert redis_server.ping()
        assert redis_server.url == redis_url
        assert await client.ping()  # the same client, holding the same URL, recovers
        assert await client.get("before") is None  # no persistence across restarts
    finally:
        await client.aclose()


@pytest.mark.redis
def test_redis_left_stopped_by_a_test(redis_server: RedisServer, redis_url: str) -> None:
    redis_server.stop()  # the next test's redis_url must bring it back
    assert not redis_server.running


@pytest.mark.redis
async def test_redis_left_password_protected_by_a_test(redis_url: str) -> None:
    client = redis_client(redis_url)
    try:
        assert await client.config_set("requirepass", "s3cret")  # the next test must not care
    finally:
        await client.aclose()


@pytest.mark.redis
@pytest.mark.parametrize("run", [1, 2])
async def test_redis_url_is_running_and_empty(
    redis_server: RedisServer, redis_url: str, run: int
) -> None:
    assert redis_server.running
    client = redis_client(redis_url)
    other_db = redis_client(redis_url.removesuffix("/0") + "/3")
    try:
        assert await client.dbsize() == 0
        assert await other_db.dbsize() == 0
        await client.set("leftover", run)  # would be seen by the other run if not flushed
        await other_db.set("leftover", run)
    finally:
        await client.aclose()
        await other_db.aclose()


@pytest.mark.redis
def test_redis_start_failure_shows_the_log(redis_server: RedisServer) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        server = RedisServer(redis_server.binary, port=taken.getsockname()[1])
        try:
            with pytest.raises(ServiceStartError, match="Address already in use") as error:
                server.start()
            assert "exited with code 1 before answering PING" in str(error.value)
            assert not server.running
        finally:
            server.close()
    assert server.directory is None


@pytest.mark.redis
def test_redis_moves_off_a_taken_automatic_port(redis_server: RedisServer) -> None:
    server = RedisServer(redis_server.binary)
    with socket.create_server(("127.0.0.1", server.port)) as taken, server:
        assert server.port != taken.getsockname()[1]
        assert server.ping()


# --------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_start_failure_shows_the_log(postgres_server: PostgresServer) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        server = PostgresServer(
            postgres_server.bindir, os_user=postgres_server.os_user, port=taken.getsockname()[1]
        )
        try:
            with pytest.raises(ServiceStartError, match="could not bind IPv4 address"):
                server.start()
            assert not server.running
        finally:
            server.close()


@pytest.mark.postgres
async def test_postgres_server_urls(postgres_server: PostgresServer) -> None:
    port = postgres_server.port
    assert postgres_server.url == f"postgresql+asyncpg://kit@127.0.0.1:{port}/kit"
    assert postgres_server.dsn == f"postgresql://kit@127.0.0.1:{port}/kit"
    assert asyncpg_dsn(postgres_server.url) == postgres_server.dsn
    postgres_server.start()  # running already unless a previous test stopped it
    conn = await asyncpg.connect(postgres_server.dsn)
    try:
        row = await conn.fetchrow("SELECT current_user AS user, current_database() AS db")
        assert row is not None
        assert (row["user"], row["db"]) == ("kit", "kit")
        address = await conn.fetchval("SELECT host(inet_server_addr())")
        assert address == "127.0.0.1"
    finally:
        await conn.close()


@pytest.mark.postgres
async def test_postgres_select_one(postgres_server: PostgresServer, postgres_url: str) -> None:
    assert postgres_url.startswith(f"postgresql+asyncpg://kit@127.0.0.1:{postgres_server.port}/")
    conn = await asyncpg.connect(asyncpg_dsn(postgres_url))
    try:
        assert await conn.fetchval("SELECT 1") == 1
        database = await conn.fetchval("SELECT current_database()")
        assert postgres_url.endswith(f"/{database}")
        assert database.startswith("test_")
    finally:
        await conn.close()


@pytest.mark.postgres
async def test_postgres_stop_fails_connections_and_restart_recovers(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    dsn = asyncpg_dsn(postgres_url)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)")

        postgres_server.stop()
        assert not postgres_server.running
        with pytest.raises(
            (asyncpg.exceptions.AdminShutdownError, asyncpg.exceptions.ConnectionDoesNotExistError)
        ):
            await conn.fetchval("SELECT 1")  # the open connection was terminated
        with pytest.raises(ConnectionRefusedError):
            await asyncpg.connect(dsn)  # and nothing accepts new ones
    finally:
        await conn.close()

    postgres_server.restart()
    assert postgres_server.pid is not None
    conn = await asyncpg.connect(dsn)  # same URL after the restart
    try:
        assert await conn.fetchval("SELECT id FROM kept") == 42  # data survives restarts
    finally:
        await conn.close()


@pytest.mark.postgres
def test_postgres_left_stopped_by_a_test(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    postgres_server.stop()  # the next test's postgres_url must bring it back
    assert not postgres_server.running


@pytest.mark.postgres
def test_postgres_runs_unprivileged(postgres_server: PostgresServer, postgres_url: str) -> None:
    pid = postgres_server.pid
    assert pid is not None
    owner = Path(f"/proc/{pid}").stat().st_uid if Path("/proc").is_dir() else os.getuid()
    assert owner != 0
    expected = postgres_server.os_user.uid if postgres_server.os_user else os.getuid()
    assert owner == expected
    assert postgres_server.data_dir is not None
    assert postgres_server.data_dir.stat().st_uid == expected
    if os.geteuid() == 0:
        assert postgres_server.os_user is not None
        assert postgres_server.os_user.name in {"postgres", "nobody"}


_seen_databases: list[str] = []


@pytest.mark.postgres
@pytest.mark.parametrize("run", [1, 2])
async def test_postgres_url_is_a_fresh_database(
    postgres_server: PostgresServer, postgres_url: str, run: int
) -> None:
    assert postgres_server.running
    conn = await asyncpg.connect(asyncpg_dsn(postgres_url))
    try:
        database = await conn.fetchval("SELECT current_database()")
        assert database not in _seen_databases
        existing = await conn.fetch("SELECT datname FROM pg_database")
        # databases of earlier tests were dropped when those tests ended
        assert not {row["datname"] for row in existing} & set(_seen_databases)
        _seen_databases.append(database)
        # fails with "relation already exists" if the other run's table leaked in
        await conn.execute("CREATE TABLE widgets (id int PRIMARY KEY)")
        await conn.execute("INSERT INTO widgets VALUES ($1)", run)
    finally:
        await conn.close()


# --------------------------------------------------------------------------------------
# Finding binaries, and skipping or failing without them
# --------------------------------------------------------------------------------------


def make_executable(path: Path, script: str = "exit 0") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return path


def make_bindir(
    root: Path, version: str, names: tuple[str, ...] = services.POSTGRES_BINARIES
) -> Path:
    bindir = root / version / "bin"
    for name in names:
        make_executable(bindir / name)
    return bindir


@pytest.mark.parametrize(
    ("value", "required"),
    [(None, False), ("", False), ("0", False), ("no", False), ("1", True), ("true", True)],
)
def test_services_required_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str | None, required: bool
) -> None:
    if value is None:
        monkeypatch.delenv("KIT_REQUIRE_SERVICES", raising=False)
    else:
        monkeypatch.setenv("KIT_REQUIRE_SERVICES", value)
    assert services_required() is required


def test_skip_or_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIT_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"^frobnicator missing \(set KIT_REQUIRE"):
        skip_or_fail("frobnicator missing")
    monkeypatch.setenv("KIT_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match=r"^frobnicator missing \(KIT_REQUIRE_SER"):
        skip_or_fail("frobnicator missing")


def test_find_redis_server_searches_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_redis_server() is None
    binary = make_executable(tmp_path / "redis-server")
    assert find_redis_server() == binary


@pytest.mark.parametrize(
    ("value", "outcome"), [(None, pytest.skip.Exception), ("1", pytest.fail.Exception)]
)
def test_require_redis_server_without_binary(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str | None, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    if value is None:
        monkeypatch.delenv("KIT_REQUIRE_SERVICES", raising=False)
    else:
        monkeypatch.setenv("KIT_REQUIRE_SERVICES", value)
    with pytest.raises(outcome, match="redis-server not found on PATH"):
        require_redis_server()


def test_find_postgres_os_user() -> None:
    assert find_postgres_os_user(("no-such-user-kit", "root")) is None  # root is never used
    someone = next(entry for entry in pwd.getpwall() if entry.pw_uid != 0)
    user = find_postgres_os_user(("no-such-user-kit", someone.pw_name))
    assert user is not None
    assert (user.name, user.uid, user.gid) == (someone.pw_name, someone.pw_uid, someone.pw_gid)
    assert user.gid in user.groups


@pytest.mark.parametrize(
    ("value", "outcome"), [(None, pytest.skip.Exception), ("1", pytest.fail.Exception)]
)
def test_require_postgres_os_user_as_root_without_an_unprivileged_user(
    monkeypatch: pytest.MonkeyPatch, value: str | None, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(services.binaries, "find_postgres_os_user", lambda: None)
    if value is None:
        monkeypatch.delenv("KIT_REQUIRE_SERVICES", raising=False)
    else:
        monkeypatch.setenv("KIT_REQUIRE_SERVICES", value)
    with pytest.raises(outcome, match="no unprivileged `postgres` user"):
        require_postgres_os_user()


def test_require_postgres_os_user_not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert require_postgres_os_user() is None  # the server runs as the current user


def test_find_postgres_bindir_prefers_pg_ctl_on_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = make_bindir(tmp_path / "pg", "14")
    make_bindir(tmp_path / "pg", "16")
    on_path = tmp_path / "bin"
    on_path.mkdir()
    (on_path / "pg_ctl").symlink_to(real / "pg_ctl")  # like /usr/local/bin/pg_ctl on Debian
    monkeypatch.setenv("PATH", str(on_path))
    assert find_postgres_bindir(globs=[str(tmp_path / "pg" / "*" / "bin")]) == real


def test_find_postgres_bindir_asks_pg_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = make_bindir(tmp_path / "pg", "13")
    make_executable(tmp_path / "bin" / "pg_config", f"echo '{real}'")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert find_postgres_bindir(globs=[]) == real


def test_find_postgres_bindir_takes_the_newest_complete_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_ctl, no pg_config
    root = tmp_path / "postgresql"
    make_bindir(root, "9.6")
    newest_complete = make_bindir(root, "15")
    make_bindir(root, "10")
    make_bindir(root, "16", names=("pg_ctl", "postgres", "psql"))  # no initdb: unusable
    assert find_postgres_bindir(globs=[str(root / "*" / "bin")]) == newest_complete


@pytest.mark.parametrize(
    ("value", "outcome"), [(None, pytest.skip.Exception), ("1", pytest.fail.Exception)]
)
def test_require_postgres_bindir_without_binaries(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str | None, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(services.binaries, "POSTGRES_BINDIR_GLOBS", (str(tmp_path / "*" / "bin"),))
    if value is None:
        monkeypatch.delenv("KIT_REQUIRE_SERVICES", raising=False)
    else:
        monkeypatch.setenv("KIT_REQUIRE_SERVICES", value)
    with pytest.raises(outcome, match=r"PostgreSQL binaries \(initdb, pg_ctl, postgres, psql\)"):
        require_postgres_bindir()


@pytest.mark.parametrize(("value", "outcome"), [(None, "2 skipped"), ("1", "2 errors")])
def test_fixtures_skip_or_fail_when_binaries_are_missing(
    tmp_path: Path, value: str | None, outcome: str
) -> None:
    """End to end: the session fixtures themselves skip (or error) in a fresh pytest run."""
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            import services.binaries

            services.binaries.POSTGRES_BINDIR_GLOBS = ()  # hide /usr/lib/postgresql/*/bin and co.

            from services.fixtures import postgres_server, redis_server
            """
        )
    )
    (tmp_path / "test_needs_servers.py").write_text(
        textwrap.dedent(
            """
            def test_redis(redis_server):
                pass

            def test_postgres(postgres_server):
                pass
            """
        )
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    empty = tmp_path / "empty-path"
    empty.mkdir()
    env = {key: val for key, val in os.environ.items() if key != "KIT_REQUIRE_SERVICES"}
    env.update(
        PATH=str(empty),  # no redis-server, pg_ctl or pg_config
        PYTHONPATH=python_path(),
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    if value is not None:
        env["KIT_REQUIRE_SERVICES"] = value
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsE", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert outcome in output, output
    assert "redis-server not found on PATH" in output
    assert "PostgreSQL binaries (initdb, pg_ctl, postgres, psql) not found" in output
    assert result.returncode == (0 if value is None else 1), output


@pytest.mark.redis
@pytest.mark.postgres
def test_servers_are_cleaned_up_when_the_process_gets_sigterm(
    redis_server: RedisServer, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    """SIGTERM -> KeyboardInterrupt -> atexit fallback: no server or directory survives."""
    script = textwrap.dedent(
        """
        import json, sys, time
        import services

        redis = services.RedisServer(sys.argv[1])
        redis.start()
        os_user = services.require_postgres_os_user()
        postgres = services.PostgresServer(sys.argv[2], os_user=os_user)
        postgres.start()
        pids = [redis.pid, postgres.pid]
        print(json.dumps({"pids": pids, "dirs": [str(redis.directory), str(postgres.directory)]}))
        sys.stdout.flush()
        time.sleep(60)  # never closed: only the SIGTERM handler and atexit can clean up
        """
    )
    env = {**os.environ, "PYTHONPATH": python_path()}
    command = [sys.executable, "-c", script, str(redis_server.binary), str(postgres_server.bindir)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    ) as child:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line:
            child.kill()
        started = json.loads(line) if line else {}
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=60)
    assert started, stderr
    assert "KeyboardInterrupt" in stderr
    for pid in started["pids"]:
        assert not services._process_alive(pid), stderr
    for directory in started["dirs"]:
        assert not Path(directory).exists(), stderr
