"""Moving from slowapi: the same app before and after, its keys, handlers and Limiter."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import slowapi.errors
from fastapi import Depends, FastAPI, Request
from limits.aio.storage import MemoryStorage, RedisStorage
from redis.asyncio import Redis
from slowapi import Limiter, _rate_limit_exceeded_handler
from slowapi.util import get_ipaddr, get_remote_address
from slowapi.wrappers import Limit as SlowapiLimit

from fastapi_kit.errors import install_error_handlers
from fastapi_kit.ratelimit import (
    RateLimiter,
    RateLimitExceeded,
    from_slowapi,
    install_rate_limiter,
    limit,
)
from fastapi_kit.testing import app_client

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def load(name: str) -> ModuleType:
    """Import a docs example as a fresh module (fresh counters)."""
    spec = importlib.util.spec_from_file_location(f"snippet_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def kit_app(kit_limiter: RateLimiter, *, key: Any = get_remote_address) -> FastAPI:
    """A kit-limited app without any error handler: ``/search`` at 2/minute."""
    app = FastAPI(lifespan=kit_limiter.lifespan)
    install_rate_limiter(app, kit_limiter)

    @app.get("/search", dependencies=[Depends(limit("2/minute", key=key))])
    async def search() -> list[str]:
        return []

    return app


@pytest.mark.parametrize("name", ["slowapi_before", "slowapi_after"])
async def test_the_app_limits_the_same_before_and_after(name: str) -> None:
    app = load(name).app
    async with app_client(app) as client:
        responses = [await client.get("/search", params={"q": "x"}) for _ in range(6)]
        items = await client.get("/items")  # its own budget: the default limits
    assert [r.status_code for r in responses] == [200] * 5 + [429]
    assert items.status_code == 200
    refused = responses[-1]
    if name == "slowapi_before":
        assert refused.json() == {"error": "Rate limit exceeded: 5 per 1 minute"}
    else:
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "rate_limited"
        assert refused.json()["detail"] == "Rate limit exceeded: 5 per 1 minute."
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["ratelimit-policy"] == '"route";q=5;w=60'  # not the default
        assert items.headers["ratelimit-policy"] == '"default";q=100;w=60'


def test_the_kits_exception_is_slowapis() -> None:
    assert issubclass(RateLimitExceeded, slowapi.errors.RateLimitExceeded)
    # Starlette picks a handler along the MRO: the kit's APIError handler comes first.
    mro = RateLimitExceeded.__mro__
    assert mro.index(slowapi.errors.RateLimitExceeded) > [c.__name__ for c in mro].index("APIError")


async def test_a_handler_for_slowapis_exception_receives_the_kits() -> None:
    seen: list[Exception] = []
    app = kit_app(RateLimiter())

    async def handler(request: Request, exc: Exception) -> Any:
        seen.append(exc)
        return _rate_limit_exceeded_handler(request, exc)  # type: ignore[arg-type]

    app.add_exception_handler(slowapi.errors.RateLimitExceeded, handler)
    app.state.limiter = Limiter(key_func=get_remote_address)  # slowapi's handler reads it
    async with app_client(app) as client:
        codes = [(await client.get("/search")).status_code for _ in range(3)]
        refused = await client.get("/search")
    assert codes == [200, 200, 429]
    assert refused.json() == {"error": "Rate limit exceeded: Rate limit exceeded: 2 per 1 minute."}
    exc = seen[0]
    assert isinstance(exc, slowapi.errors.RateLimitExceeded)
    assert isinstance(exc, RateLimitExceeded)
    assert isinstance(exc.limit, SlowapiLimit)
    assert str(exc.limit.limit) == "2 per 1 minute"
    assert exc.detail == "Rate limit exceeded: 2 per 1 minute."
    assert str(exc) == "Rate limit exceeded: 2 per 1 minute."


async def test_the_kits_handlers_win_over_slowapis() -> None:
    app = kit_app(RateLimiter())
    app.state.limiter = Limiter(key_func=get_remote_address)
    app.add_exception_handler(slowapi.errors.RateLimitExceeded, _rate_limit_exceeded_handler)  # type: ignore[arg-type]
    install_error_handlers(app)
    async with app_client(app) as client:
        codes = [(await client.get("/search")).status_code for _ in range(2)]
        refused = await client.get("/search")
    assert codes == [200, 200]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    assert refused.headers["cache-control"] == "no-store"


async def test_without_any_handler_the_429_is_fastapis_http_exception() -> None:
    async with app_client(kit_app(RateLimiter())) as client:
        responses = [await client.get("/search") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[-1].json() == {"detail": "Rate limit exceeded: 2 per 1 minute."}
    assert int(responses[-1].headers["retry-after"]) >= 1


@pytest.mark.parametrize("key", [get_remote_address, get_ipaddr])
async def test_slowapis_key_functions_are_keys(key: Any) -> None:
    kit_limiter = RateLimiter()
    app = kit_app(kit_limiter, key=key)
    async with (
        app_client(app, client=("192.0.2.1", 1000)) as one,
        app_client(app, client=("192.0.2.2", 1000)) as other,
    ):
        codes = [(await client.get("/search")).status_code for client in (one, one, other, one)]
    assert codes == [200, 200, 200, 429]  # a budget per address
    assert isinstance(kit_limiter.storage, MemoryStorage)
    keys = list(kit_limiter.storage.storage)
    assert any("/192.0.2.1/" in k for k in keys), keys  # as slowapi's returned it


async def test_a_custom_key_func_is_a_key() -> None:
    def api_key(request: Request) -> str:
        return request.headers.get("x-api-key", "anonymous")

    async with app_client(kit_app(RateLimiter(), key=api_key)) as client:
        codes = [
            (await client.get("/search", headers={"x-api-key": name})).status_code
            for name in ("a", "a", "b", "a")
        ]
    assert codes == [200, 200, 200, 429]


def test_from_slowapi_maps_memory_and_default_limits() -> None:
    slow = Limiter(key_func=get_remote_address, default_limits=["100/day", "5/minute"])
    kit_limiter = from_slowapi(slow, on_error="closed", auth_limits="3/minute")
    assert isinstance(kit_limiter.storage, MemoryStorage)
    assert kit_limiter.default_limits == "5 per 1 minute;100 per 1 day"
    assert kit_limiter.auth_limits == "3/minute"
    assert kit_limiter.on_error == "closed"


def test_from_slowapi_keeps_the_kits_default_without_slowapis() -> None:
    slow = Limiter(key_func=get_remote_address, storage_uri="memory://")
    assert from_slowapi(slow).default_limits == "300/minute"
    several = Limiter(key_func=get_remote_address, default_limits=["10/second;20/minute"])
    assert from_slowapi(several).default_limits == "10 per 1 second;20 per 1 minute"


def test_from_slowapi_refuses_what_it_cannot_map() -> None:
    keyed = Limiter(key_func=get_remote_address, default_limits=[lambda key: "5/minute"])
    with pytest.raises(ValueError, match="depends on the key"):
        from_slowapi(keyed)
    other = Limiter(key_func=get_remote_address)
    other._storage_uri = "memcached://localhost:11211"
    with pytest.raises(ValueError, match="memcached"):
        from_slowapi(other)


def test_from_slowapi_warns_of_application_limits() -> None:
    slow = Limiter(key_func=get_remote_address, application_limits=["1000/minute"])
    with pytest.warns(UserWarning, match="application_limits"):
        from_slowapi(slow)


async def test_a_disabled_slowapi_limiter_limits_nothing() -> None:
    slow = Limiter(key_func=get_remote_address, enabled=False)
    async with app_client(kit_app(from_slowapi(slow))) as client:
        responses = [await client.get("/search") for _ in range(4)]
    assert [r.status_code for r in responses] == [200] * 4
    assert "x-ratelimit-limit" not in responses[-1].headers


@pytest.mark.redis
async def test_from_slowapi_maps_redis(redis_url: str) -> None:
    slow = Limiter(key_func=get_remote_address, storage_uri=redis_url)
    kit_limiter = from_slowapi(slow)
    assert isinstance(kit_limiter.storage, RedisStorage)
    assert kit_limiter._pipeline is not None  # one round trip per check
    async with app_client(kit_app(kit_limiter)) as client:
        codes = [(await client.get("/search")).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    redis = Redis.from_url(redis_url)
    try:
        keys = [str(key) for key in await redis.keys("kit:rl:*")]
    finally:
        await redis.aclose()
    assert keys
    assert all("127.0.0.1" in key for key in keys)
