"""Revocation shared by two instances through one real Redis, and Redis outages."""

from __future__ import annotations

import pytest

from auth.app import Directory, add_user, bearer, make_app, settings
from fastapi_kit import Kit, KitSettings
from fastapi_kit.auth import MemoryRevocationStore
from fastapi_kit.auth.revocation.redis import RedisRevocationStore
from fastapi_kit.errors import ServiceUnavailable
from fastapi_kit.testing import app_client
from helpers import LogCapture
from services import RedisServer

pytestmark = pytest.mark.redis


async def test_a_logout_on_one_instance_holds_on_the_other(redis_url: str) -> None:
    directory = Directory()
    app_a, auth_a = make_app(directory, settings(redis_url=redis_url))
    app_b, _ = make_app(directory, settings(redis_url=redis_url))
    await add_user(directory, auth_a, 1)
    async with app_client(app_a) as a, app_client(app_b) as b:
        pair = (
            await a.post(
                "/auth/token",
                data={"username": "user1@example.com", "password": "correct horse battery staple"},
            )
        ).json()
        assert (await b.get("/me", headers=bearer(pair["access_token"]))).status_code == 200
        assert (
            await a.post("/auth/logout", headers=bearer(pair["access_token"]))
        ).status_code == 204
        on_b = await b.get("/me", headers=bearer(pair["access_token"]))
        refresh_on_b = await b.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert on_b.status_code == 401
    assert refresh_on_b.status_code == 401


async def test_refresh_reuse_is_detected_across_instances(redis_url: str) -> None:
    directory = Directory()
    app_a, auth_a = make_app(directory, settings(redis_url=redis_url))
    app_b, _ = make_app(directory, settings(redis_url=redis_url))
    await add_user(directory, auth_a, 1)
    pair = auth_a.tokens.issue_pair("1", ["user"])
    async with app_client(app_a) as a, app_client(app_b) as b:
        rotated = await a.post("/auth/refresh", json={"refresh_token": pair.refresh_token})
        replayed = await b.post("/auth/refresh", json={"refresh_token": pair.refresh_token})
        after = await a.get("/me", headers=bearer(rotated.json()["access_token"]))
    assert rotated.status_code == 200
    assert replayed.status_code == 401
    assert after.status_code == 401  # the family died on both instances


async def test_redis_down_fails_closed_by_default_then_recovers(
    redis_server: RedisServer, redis_url: str, logs: LogCapture
) -> None:
    directory = Directory()
    app, auth = make_app(directory, settings(redis_url=redis_url))
    await add_user(directory, auth, 1)
    good = auth.tokens.issue_pair("1", ["user"])
    async with app_client(app) as client:
        redis_server.stop()
        down = await client.get("/me", headers=bearer(good.access_token))
        refresh = await client.post("/auth/refresh", json={"refresh_token": good.refresh_token})
        ready = await client.get("/readyz")
        redis_server.start()
        back = await client.get("/me", headers=bearer(good.access_token))
    for response in (down, refresh):
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "5"
        assert response.json()["code"] == "service_unavailable"
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"] == "error"
    assert back.status_code == 200  # recovered without a restart of the app
    assert logs.named("revocation_store_unavailable")


async def test_redis_down_can_fail_open(redis_server: RedisServer, redis_url: str) -> None:
    directory = Directory()
    app, auth = make_app(directory, settings(redis_url=redis_url, revocation_policy="fail_open"))
    await add_user(directory, auth, 1)
    pair = auth.tokens.issue_pair("1", ["user"])
    async with app_client(app) as client:
        redis_server.stop()
        me = await client.get("/me", headers=bearer(pair.access_token))
        logout = await client.post("/auth/logout", headers=bearer(pair.access_token))
        refresh = await client.post("/auth/refresh", json={"refresh_token": pair.refresh_token})
        with pytest.raises(ServiceUnavailable):
            await auth.logout_everywhere("1")
        redis_server.start()
    assert me.status_code == 200  # accepted: the policy chose availability
    # Writes that cannot be recorded are not claimed: no logout, no rotation.
    assert logout.status_code == 503
    assert refresh.status_code == 503


def test_use_auth_picks_the_store_from_the_settings(redis_url: str) -> None:
    with_redis = Kit(KitSettings(secret_key="s" * 32, redis_url=redis_url))  # type: ignore[arg-type]
    without = Kit(KitSettings(secret_key="s" * 32))  # type: ignore[arg-type]
    assert isinstance(with_redis.use_auth(claims_only=True).revocation, RedisRevocationStore)
    assert isinstance(without.use_auth(claims_only=True).revocation, MemoryRevocationStore)
    mine = MemoryRevocationStore()
    assert with_redis.use_auth(claims_only=True, revocation=mine).revocation is mine
