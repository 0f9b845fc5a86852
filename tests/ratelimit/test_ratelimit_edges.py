"""The limiter's set-up, windows over time, and what it refuses to do."""

from __future__ import annotations

import pytest
from fastapi import Depends, FastAPI
from limits import parse
from pydantic import SecretStr

from fastapi_kit import Kit, KitSettings
from fastapi_kit.auth import CurrentUser
from fastapi_kit.errors import install_error_handlers
from fastapi_kit.ratelimit import (
    Hit,
    RateLimiter,
    client_ip,
    client_network,
    form_field,
    limit,
    user_or_ip,
)
from fastapi_kit.ratelimit.redis import SlidingWindowPipeline
from fastapi_kit.testing import app_client


def test_invalid_limits_fail_when_the_route_is_defined() -> None:
    with pytest.raises(ValueError, match="couldn't parse rate limit string"):
        limit("ten per fortnight")
    assert repr(limit("5/minute;100/day")) == "limit('5/minute;100/day')"


async def test_without_authentication_the_default_key_is_the_address() -> None:
    kit = Kit(KitSettings())
    kit.use_rate_limit()
    app = FastAPI()

    @app.get("/x", dependencies=[Depends(limit("1/minute"))])
    async def x() -> dict[str, str]:
        return {}

    kit.install(app, logging=False)
    async with app_client(app) as client:
        first = await client.get("/x", headers={"Authorization": "Bearer ignored"})
        second = await client.get("/x")
    assert (first.status_code, second.status_code) == (200, 429)


async def test_a_limit_without_the_limiter_is_a_set_up_error() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/x", dependencies=[Depends(limit("1/minute"))])
    async def x() -> dict[str, str]:
        return {}

    async with app_client(app) as client:
        response = await client.get("/x")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"


async def test_the_window_slides_with_time(monkeypatch: pytest.MonkeyPatch) -> None:
    limiter = RateLimiter()
    item = parse("10/minute")
    clock = [1_800_000_000.0]  # the start of a clock-aligned window
    monkeypatch.setattr("time.time", lambda: clock[0])

    async def hits(n: int) -> list[bool]:
        return [(await limiter.hit([Hit(item, ("s", "k"), 1, "p")]))[0].allowed for _ in range(n)]

    assert await hits(11) == [True] * 10 + [False]
    clock[0] += 60  # next window: the previous one still weighs fully at its start
    assert await hits(1) == [False]
    clock[0] += 30  # half of it has slid out: 5 of the 10 still count
    assert await hits(6) == [True] * 5 + [False]
    clock[0] += 90  # two windows later, nothing is left
    (window,) = await limiter.hit([Hit(item, ("s", "k"), 1, "p")])
    assert (window.allowed, window.remaining) == (True, 9)


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    from fastapi_kit.ratelimit import WindowState

    window = WindowState(parse("1/second"), "p", False, 0, 100.2)
    assert window.seconds_to_reset(now=100.0) == 1
    assert window.seconds_to_reset(now=98.5) == 2
    assert window.seconds_to_reset(now=101.0) == 1


def test_use_rate_limit_picks_redis_when_configured(redis_url: str) -> None:
    with_redis = Kit(KitSettings(redis_url=SecretStr(redis_url)))
    without = Kit(KitSettings())
    assert SlidingWindowPipeline.for_storage(with_redis.use_rate_limit().storage) is not None
    assert SlidingWindowPipeline.for_storage(without.use_rate_limit().storage) is None
    assert with_redis.default_rate_limit.describe() == "300 per 1 minute (default)"
    assert len(with_redis.auth_rate_limit.budgets) == 2


async def test_a_request_is_authenticated_once_however_many_ask() -> None:
    kit = Kit(KitSettings(secret_key=SecretStr("x" * 40)))
    loads: list[str] = []

    async def loader(subject: str) -> object:
        from fastapi_kit.testing import token_user

        loads.append(subject)
        return token_user(subject)

    auth = kit.use_auth(user_loader=loader)
    kit.use_rate_limit()
    app = FastAPI()

    @app.get("/me", dependencies=[Depends(limit("5/minute", key=user_or_ip))])
    async def me(user: CurrentUser) -> dict[str, str]:
        return {"id": str(user.id)}

    kit.install(app, logging=False)
    token = auth.tokens.issue_pair("7", []).access_token
    async with app_client(app) as client:
        response = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.json() == {"id": "7"}
    assert loads == ["7"]  # the limit's key and CurrentUser shared one authentication


async def test_keys_from_bodies_tolerate_what_clients_send() -> None:
    kit = Kit(KitSettings())
    kit.use_rate_limit()
    app = FastAPI()

    @app.post("/json", dependencies=[Depends(limit("1/minute", key=form_field("email")))])
    async def json_route(body: list[int] | dict[str, int]) -> dict[str, str]:
        return {}

    @app.post("/bodiless", dependencies=[Depends(limit("1/minute", key=form_field("email")))])
    async def bodiless() -> dict[str, str]:
        return {}

    @app.get("/ip", dependencies=[Depends(limit("1/minute", key=client_ip))])
    async def ip() -> dict[str, str]:
        return {}

    kit.install(app, logging=False)
    async with app_client(app) as client:
        # No such field (or not a string): one shared "empty" budget, still limited.
        first = await client.post("/json", json=[1, 2])
        second = await client.post("/json", json={"email": 3})
        # Nested past Python's stack: the key of an empty value, not a 500.
        deep = [
            await client.post(
                "/bodiless", content=b"[" * 100_000, headers={"content-type": "application/json"}
            )
            for _ in range(2)
        ]
    assert (first.status_code, second.status_code) == (200, 429)
    assert [response.status_code for response in deep] == [200, 429]


@pytest.mark.parametrize(
    ("address", "prefix", "key"),
    [
        ("192.0.2.1", 64, "192.0.2.1"),
        ("2001:DB8:0:0:1::AA", 64, "2001:db8::/64"),
        ("2001:db8:0:0:ffff::1", 64, "2001:db8::/64"),
        ("2001:db8:abcd:12ff::1", 56, "2001:db8:abcd:1200::/56"),
        ("2001:db8::1", 128, "2001:db8::1/128"),
        ("::ffff:198.51.100.3", 64, "198.51.100.3"),
        ("fe80::1%eth0", 64, "fe80::/64"),
        ("64:ff9b::203.0.113.9", 64, "203.0.113.9"),  # NAT64: each IPv4 client its own
        ("64:ff9b::203.0.113.10", 64, "203.0.113.10"),
        ("::ffff:0:198.51.100.3", 64, "198.51.100.3"),  # IPv4-translated
        ("2002:c000:0204::1", 64, "192.0.2.4"),  # 6to4: its IPv4 address, not 2^16 /64s
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", 64, "192.0.2.45"),  # Teredo's client
        ("[2001:db8::1]:8443", 64, "2001:db8::/64"),
        ("[2001:db8::1]", 64, "2001:db8::/64"),
        ("192.0.2.1:5678", 64, "192.0.2.1"),
        ("Test-Client", 64, "test-client"),
    ],
)
def test_client_networks(address: str, prefix: int, key: str) -> None:
    assert client_network(address, prefix) == key


def test_the_ipv6_prefix_is_checked() -> None:
    for prefix in (0, 129):
        with pytest.raises(ValueError, match="ipv6_prefix"):
            RateLimiter(ipv6_prefix=prefix)
