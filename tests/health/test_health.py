"""/healthz touches nothing; /readyz runs the registered checks concurrently."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from fastapi_kit.errors import install_error_handlers
from fastapi_kit.health import ReadinessChecks, add_health_routes, health_router
from helpers import LogCapture, client_for


def make_app(checks: ReadinessChecks) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(health_router(checks))
    return app


async def healthy() -> None:
    return None


async def broken() -> None:
    msg = "connection refused to postgres://admin:pw@db"
    raise ConnectionError(msg)


async def hangs() -> None:
    await asyncio.Event().wait()


async def says_no() -> bool:
    return False


async def test_liveness_runs_no_checks() -> None:
    checks = ReadinessChecks()
    checks.add("database", broken)
    async with client_for(make_app(checks)) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_every_check_passes() -> None:
    checks = ReadinessChecks()
    checks.add("database", healthy)
    checks.add("redis", healthy)
    async with client_for(make_app(checks)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


async def test_ready_with_no_checks() -> None:
    async with client_for(make_app(ReadinessChecks())) as client:
        response = await client.get("/readyz")
    assert response.json() == {"status": "ok", "checks": {}}


async def test_failed_checks_give_a_503_problem_naming_them(logs: LogCapture) -> None:
    checks = ReadinessChecks(default_timeout=5)
    checks.add("database", broken)
    checks.add("redis", hangs, timeout=0.01)
    checks.add("search", says_no)
    checks.add("cache", healthy)
    async with client_for(make_app(checks)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["checks"] == {
        "database": "error",
        "redis": "timeout",
        "search": "error",
        "cache": "ok",
    }
    assert body["detail"] == "Not ready: database, redis, search."
    assert "postgres://" not in response.text
    # The log says what failed, without the exception text (it may hold a DSN).
    [failure] = logs.named("readiness_check_failed")
    assert failure == {**failure, "check": "database", "error": "ConnectionError"}
    assert logs.named("readiness_check_timeout")[0]["check"] == "redis"
    assert "pw@db" not in logs.text


async def test_checks_run_concurrently() -> None:
    # Each check waits for the other: run one after the other, both would time out.
    first_started, second_started = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        first_started.set()
        await second_started.wait()

    async def second() -> None:
        second_started.set()
        await first_started.wait()

    checks = ReadinessChecks(default_timeout=5)
    checks.add("first", first)
    checks.add("second", second)
    assert await checks.run() == {"first": "ok", "second": "ok"}


async def test_a_check_registered_twice_is_replaced() -> None:
    checks = ReadinessChecks()
    checks.add("database", broken)
    checks.add("database", healthy)
    assert checks.names == ("database",)
    assert await checks.run() == {"database": "ok"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_routes_are_documented(path: str) -> None:
    schema = make_app(ReadinessChecks()).openapi()
    assert schema["paths"][path]["get"]["summary"]
    if path == "/readyz":
        assert "503" in schema["paths"][path]["get"]["responses"]


def test_the_health_tag_is_described_unless_the_app_describes_it() -> None:
    app = FastAPI(openapi_tags=[{"name": "todos", "description": "Todos."}])
    add_health_routes(app, ReadinessChecks())
    tags = app.openapi()["tags"]
    assert [tag["name"] for tag in tags] == ["todos", "health"]
    assert tags[1]["description"].startswith("Liveness and readiness probes")
    assert app.openapi()["paths"]["/readyz"]["get"]["tags"] == ["health"]

    own = FastAPI(openapi_tags=[{"name": "health", "description": "Probes."}])
    add_health_routes(own, ReadinessChecks())
    assert own.openapi()["tags"] == [{"name": "health", "description": "Probes."}]
