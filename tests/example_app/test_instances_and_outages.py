"""Two instances on one PostgreSQL + Redis, and what outages of either do."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from todo_app_helpers import bearer, log_in, new_user, register

from conftest import Backends
from fastapi_kit.testing import app_client
from todo_app.main import create_app
from todo_app.migrations import upgrade

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx

    from services import PostgresServer, RedisServer

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def shared(postgres_url: str, redis_url: str) -> Backends:
    """One migrated PostgreSQL database and one Redis, for several instances."""
    upgrade(postgres_url)
    return Backends("postgres-redis", postgres_url, redis_url)


@asynccontextmanager
async def instance(backends: Backends, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(backends.settings(**overrides))
    async with app_client(app, base_url="http://testserver/api/v1") as client:
        yield client


async def test_two_instances_share_sessions_caches_etags_and_limits(shared: Backends) -> None:
    async with (
        instance(shared, rate_limit_default="10/minute") as a,
        instance(shared, rate_limit_default="10/minute") as b,
    ):
        auth = await new_user(a, "both@example.com")
        todo = (await a.post("/todos", json={"title": "on a"}, headers=auth)).json()  # 1
        listed_b = await b.get("/todos", headers=auth)  # 2: a miss on b
        assert (await b.get("/todos", headers=auth)).headers["x-cache"] == "HIT"  # 3
        await a.post("/todos", json={"title": "also on a"}, headers=auth)  # 4
        after = await b.get("/todos", headers=auth)  # 5: a's write invalidated b's entry
        assert after.headers["x-cache"] == "MISS"
        assert [i["title"] for i in after.json()["items"]] == ["on a", "also on a"]
        assert listed_b.json()["total"] == 1

        etag = (await a.get(f"/todos/{todo['id']}", headers=auth)).headers["etag"]  # 6
        conditional = await b.get(  # 7
            f"/todos/{todo['id']}", headers=auth | {"If-None-Match": etag}
        )
        assert conditional.status_code == 304

        tokens = await log_in(b, "both@example.com")
        assert (await a.post("/auth/logout", headers=bearer(tokens))).status_code == 204  # 8
        assert (
            await b.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        ).status_code == 401
        assert (await b.get("/users/me", headers=bearer(tokens))).status_code == 401
        codes = [(await c.get("/users/me", headers=auth)).status_code for c in (a, b, a)]
        assert codes == [200, 200, 429]  # 9, 10, then over the budget the instances share


async def test_redis_outage_gives_503s_not_500s_and_recovers(
    shared: Backends, redis_server: RedisServer
) -> None:
    async with instance(shared) as client:
        auth = await new_user(client, "redis@example.com")
        root = str(client.base_url).removesuffix("/api/v1/")
        redis_server.stop()
        try:
            me = await client.get("/users/me", headers=auth)
            assert me.status_code == 503  # revocations cannot be checked: fail closed
            assert me.json()["code"] == "service_unavailable"
            assert "retry-after" in me.headers
            login = await client.post(
                "/auth/token", data={"username": "redis@example.com", "password": "whatever"}
            )
            assert login.status_code == 503  # login limits fail closed
            assert (await client.get("/todos")).status_code == 401  # default limit: open
            ready = await client.get(f"{root}/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["redis"] in {"error", "timeout"}
        finally:
            redis_server.start()
        scraped = (await client.get(f"{root}/metrics")).text
        errors = {
            sample.labels["block"]: sample.value
            for family in text_string_to_metric_families(scraped)
            for sample in family.samples
            if sample.name == "fastapi_kit_redis_errors_total"
        }
        # What an alert on Redis errors sees: the checks that failed, by block.
        assert {block for block, count in errors.items() if count} == {"revocation", "rate_limit"}
        assert (await client.get(f"{root}/readyz")).status_code == 200
        assert (await client.get("/users/me", headers=auth)).status_code == 200
        assert (
            await client.post("/todos", json={"title": "back"}, headers=auth)
        ).status_code == 201


async def test_database_outage_gives_503s_and_recovers(
    shared: Backends, postgres_server: PostgresServer
) -> None:
    async with instance(shared) as client:
        await register(client, "db@example.com")
        auth = bearer(await log_in(client, "db@example.com"))
        root = str(client.base_url).removesuffix("/api/v1/")
        postgres_server.stop()
        try:
            for response in (
                await client.get("/todos?limit=7", headers=auth),
                await client.post("/todos", json={"title": "lost?"}, headers=auth),
                await client.post(
                    "/auth/token", data={"username": "db@example.com", "password": "x" * 10}
                ),
            ):
                assert response.status_code == 503, response.text
                assert response.json()["code"] == "service_unavailable"
            ready = await client.get(f"{root}/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"] in {"error", "timeout"}
        finally:
            postgres_server.start()
        created = await client.post("/todos", json={"title": "after"}, headers=auth)
        assert created.status_code == 201
        assert [i["title"] for i in (await client.get("/todos", headers=auth)).json()["items"]] == [
            "after"
        ]
