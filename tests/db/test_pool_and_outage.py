"""Pool exhaustion and database outages: prompt 503s, no leaks, recovery without a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import httpx
import pytest

from db.app import Gate, make_app
from db.models import TestBase
from fastapi_kit import Kit, KitSettings
from fastapi_kit.db import Database, DatabaseConfig
from fastapi_kit.testing import app_client
from services import PostgresServer


async def first_n(tasks: list[asyncio.Task[httpx.Response]], count: int) -> None:
    """Wait until ``count`` of ``tasks`` are done."""
    pending = set(tasks)
    while len(tasks) - len(pending) < count:
        _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)


@pytest.mark.parametrize("db_url", ["postgres", "sqlite"], indirect=True)
async def test_200_requests_on_a_pool_of_5_succeed_or_get_a_prompt_503(db_url: str) -> None:
    database = Database(db_url, DatabaseConfig(pool_size=5, max_overflow=0, pool_timeout=0.5))
    gate = Gate()
    async with app_client(make_app(database, gate)) as client:
        tasks = [asyncio.create_task(client.get("/held")) for _ in range(200)]
        # Five requests hold the five connections; the others wait for the pool...
        await first_n(tasks, 195)
        gate.open.set()  # ...until they time out; then the five finish.
        responses = await asyncio.gather(*tasks)
        assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 5
    assert statuses.count(503) == 195
    busy = next(response for response in responses if response.status_code == 503)
    assert busy.headers["content-type"] == "application/problem+json"
    assert busy.headers["retry-after"] == "1"
    assert busy.json()["code"] == "service_unavailable"


def kit_app(url: str) -> Kit:
    return Kit(
        KitSettings(
            database_url=url,  # type: ignore[arg-type]
            db_pool_timeout=1,
            db_connect_timeout=1,
            readiness_timeout=2,
            gc_freeze=False,
        )
    )


async def create_tables(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(TestBase.metadata.create_all)


@pytest.mark.postgres
async def test_postgres_outage_gives_503s_and_the_app_recovers_by_itself(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    kit = kit_app(postgres_url)
    assert kit.database is not None
    app = kit.install(make_app(kit.database, lifespan=False), logging=False)
    await create_tables(kit.database)

    async def status_of(request: Awaitable[httpx.Response]) -> tuple[int, dict[str, object]]:
        response = await request
        return response.status_code, response.json()

    async with app_client(app) as client:
        assert (
            await client.post("/owners", json={"email": "before@example.com"})
        ).status_code == 201
        assert (await client.get("/readyz")).json()["checks"] == {"database": "ok"}

        postgres_server.stop()
        down = await client.post("/owners", json={"email": "during@example.com"})
        assert down.status_code == 503
        assert down.headers["content-type"] == "application/problem+json"
        assert down.headers["retry-after"] == "5"
        assert down.json()["code"] == "service_unavailable"
        assert "ConnectionRefused" not in down.text
        assert await status_of(client.get("/healthz")) == (200, {"status": "ok"})
        readiness = await client.get("/readyz")
        assert readiness.status_code == 503
        assert readiness.json()["checks"] == {"database": "error"}

        postgres_server.start()  # no app restart
        again = await client.post("/owners", json={"email": "after@example.com"})
        assert again.status_code == 201
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/count")).json() == {"owners": 2}
        assert kit.database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.postgres
async def test_pooled_connections_survive_a_database_restart(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    kit = kit_app(postgres_url)
    assert kit.database is not None
    app = kit.install(make_app(kit.database, lifespan=False), logging=False)
    await create_tables(kit.database)
    async with app_client(app) as client:
        await asyncio.gather(*(client.get("/count") for _ in range(5)))  # fill the pool
        postgres_server.restart()  # every pooled connection is now dead
        responses = await asyncio.gather(*(client.get("/count") for _ in range(5)))
    assert {response.status_code for response in responses} == {200}


async def test_kit_registers_the_database_check_and_lifespan(db_url: str) -> None:
    kit = kit_app(db_url)
    assert kit.database is not None
    app = kit.install(make_app(kit.database, lifespan=False), logging=False)
    await create_tables(kit.database)
    async with app_client(app) as client:
        created = await client.post("/owners", json={"email": "k@example.com"})
        ready = await client.get("/readyz")
    assert created.status_code == 201
    assert ready.json() == {"status": "ok", "checks": {"database": "ok"}}
