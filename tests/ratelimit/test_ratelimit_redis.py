"""Rate limits on a real Redis: shared budgets, one round trip, outages, a slow server."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import Connection

from fastapi_kit.testing import app_client
from helpers import LogCapture
from ratelimit.app import make_app
from services import RedisServer

pytestmark = pytest.mark.redis


async def test_two_instances_share_one_budget(redis_url: str) -> None:
    app_a, *_ = make_app(redis_url)
    app_b, *_ = make_app(redis_url)
    async with app_client(app_a) as a, app_client(app_b) as b:
        codes = [(await client.get("/ip")).status_code for client in (a, b, a, b)]
    assert codes == [200, 200, 200, 429]


async def test_a_limit_is_one_round_trip(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[object] = []
    original = Connection.send_packed_command

    async def counting(self: Connection, command: object, check_health: bool = True) -> None:
        sent.append(command)
        await original(self, command, check_health)  # type: ignore[arg-type]

    app, *_ = make_app(redis_url)
    async with app_client(app) as client:
        await client.get("/ip")  # the first request may connect and say HELLO
        monkeypatch.setattr(Connection, "send_packed_command", counting)
        counts = []
        for method, path, form in (
            ("GET", "/ip", None),
            ("GET", "/multi", None),  # two windows
            ("POST", "/login", {"username": "a"}),  # two budgets
        ):
            sent.clear()
            response = await client.request(method, path, data=form)
            assert response.status_code == 200
            counts.append(len(sent))
    assert counts == [1, 1, 1]


async def test_counters_expire_with_their_windows(redis_url: str) -> None:
    app, *_ = make_app(redis_url)
    async with app_client(app) as client:
        await client.get("/ip")
    redis = Redis.from_url(redis_url)
    try:
        keys = await redis.keys("kit:rl:*")
        ttls = [await redis.pttl(key) for key in keys]
    finally:
        await redis.aclose()
    assert keys
    assert all(0 < ttl <= 120_000 for ttl in ttls)  # at most two 60 s windows


async def test_a_flushed_redis_is_used_again_at_once(redis_url: str) -> None:
    app, *_ = make_app(redis_url)
    redis = Redis.from_url(redis_url)
    async with app_client(app) as client:
        await client.get("/ip")
        await redis.script_flush()  # as after a restart: limits' scripts are gone
        codes = [(await client.get("/ip")).status_code for _ in range(3)]
    await redis.aclose()
    assert codes == [200, 200, 429]


async def test_redis_down_fails_open_or_closed_then_limits_again(
    redis_server: RedisServer, redis_url: str, logs: LogCapture
) -> None:
    app, _, limiter, _ = make_app(redis_url)
    async with app_client(app) as client:
        assert (await client.get("/ip")).status_code == 200
        redis_server.stop()
        opened = [await client.get("/ip") for _ in range(4)]
        closed = await client.get("/closed")
        redis_server.start()
        back = [(await client.get("/ip")).status_code for _ in range(4)]
        scraped = (await client.get("/metrics")).text
    for response in opened:
        assert response.status_code == 200  # fail-open: served, unlimited, no headers
        assert "x-ratelimit-limit" not in response.headers
    assert limiter.failures == 4
    # Every failed check is a Redis error to monitor, whether it failed open or closed.
    assert 'fastapi_kit_redis_errors_total{block="rate_limit"} 5.0' in scraped
    assert len(logs.named("rate_limit_unavailable")) == 4
    assert closed.status_code == 503
    assert closed.headers["content-type"] == "application/problem+json"
    assert closed.json()["code"] == "service_unavailable"
    assert "retry-after" in closed.headers
    assert back == [200, 200, 200, 429]  # the restart emptied Redis; limits hold again


async def test_a_slow_redis_does_not_hold_up_other_routes(redis_url: str) -> None:
    app, *_ = make_app(redis_url)
    admin = Redis.from_url(redis_url)
    async with app_client(app) as client:
        await client.get("/ip")  # connected
        # Redis answers nobody for 0.8 s (under the client's 1 s timeout).
        await admin.execute_command("CLIENT", "PAUSE", "800", "ALL")
        limited = asyncio.create_task(client.get("/ip"))
        free = await client.get("/free")
        healthz = await client.get("/healthz")
        # The limited request waits on Redis while the event loop serves the others.
        assert not limited.done()
        answered = await limited
    await admin.aclose()
    assert free.status_code == healthz.status_code == 200
    assert answered.status_code == 200
    assert answered.headers["x-ratelimit-remaining"] == "1"  # counted once Redis answered
