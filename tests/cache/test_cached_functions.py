"""cached() on plain coroutines: keyed by arguments, typed results, tags, single flight."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from fastapi_kit.cache import Cache, CacheDep, CacheError, MemoryCache, cached, conditional
from fastapi_kit.errors import install_error_handlers
from fastapi_kit.testing import app_client
from helpers import LogCapture, client_for


class Price(BaseModel):
    sku: str
    cents: int


def pricing(cache: Cache) -> tuple[dict[str, int], object]:
    calls: dict[str, int] = {}

    @cache.cached(ttl=60, tags=["prices", "sku:{sku}"])  # type: ignore[attr-defined]
    async def price(sku: str, currency: str = "EUR") -> Price:
        calls[sku] = calls.get(sku, 0) + 1
        return Price(sku=sku, cents=100 * len(sku))

    return calls, price


async def test_results_are_cached_by_arguments_and_come_back_typed() -> None:
    cache = Cache(MemoryCache())
    calls, price = pricing(cache)
    first = await price("ab")  # type: ignore[operator]
    second = await price(sku="ab", currency="EUR")  # type: ignore[operator]
    other = await price("ab", "USD")  # type: ignore[operator]
    assert first == second == Price(sku="ab", cents=200)
    assert isinstance(second, Price)
    assert other == first
    assert calls == {"ab": 2}  # EUR twice (one computation), USD once


async def test_tags_formatted_from_arguments_invalidate_precisely() -> None:
    cache = Cache(MemoryCache())
    calls, price = pricing(cache)
    await price("a")  # type: ignore[operator]
    await price("b")  # type: ignore[operator]
    await cache.invalidate(["sku:a"])
    await price("a")  # type: ignore[operator]
    await price("b")  # type: ignore[operator]
    assert calls == {"a": 2, "b": 1}
    await cache.invalidate(["prices"])
    await price("b")  # type: ignore[operator]
    assert calls["b"] == 2


async def test_concurrent_calls_compute_once() -> None:
    cache = Cache(MemoryCache())
    started, release = asyncio.Event(), asyncio.Event()
    runs = 0

    @cached(cache=cache, tags=lambda n: [f"n:{n}"])
    async def slow(n: int) -> list[int]:
        nonlocal runs
        runs += 1
        started.set()
        await release.wait()
        return list(range(n))

    first = asyncio.ensure_future(slow(3))
    await started.wait()
    others = [asyncio.ensure_future(slow(3)) for _ in range(9)]
    await asyncio.sleep(0)  # they join the computation under way
    release.set()
    assert await asyncio.gather(first, *others) == [[0, 1, 2]] * 10
    assert runs == 1


async def test_a_failing_backend_just_computes(logs: LogCapture) -> None:
    class Broken(MemoryCache):
        async def read(self, key: str, tags: object) -> tuple[bytes | None, dict[str, int]]:
            raise CacheError("backend down")

    cache = Cache(Broken())
    calls, price = pricing(cache)
    assert await price("x") == Price(sku="x", cents=100)  # type: ignore[operator]
    assert await price("x") == Price(sku="x", cents=100)  # type: ignore[operator]
    assert calls == {"x": 2}
    assert logs.named("cache_unavailable")[0]["operation"] == "read"


async def test_a_failing_store_still_returns_the_value(logs: LogCapture) -> None:
    class ReadOnly(MemoryCache):
        async def set(self, *args: object, **kwargs: object) -> bool:
            raise CacheError("read-only")

    cache = Cache(ReadOnly())
    _, price = pricing(cache)
    assert await price("y") == Price(sku="y", cents=100)  # type: ignore[operator]
    assert logs.named("cache_unavailable")[0]["operation"] == "store"


async def test_a_failing_invalidation_is_reported_not_raised(logs: LogCapture) -> None:
    class NoInvalidate(MemoryCache):
        async def invalidate(self, tags: object) -> None:
            raise CacheError("nope")

    assert not await Cache(NoInvalidate()).invalidate(["t"])
    assert logs.named("cache_unavailable")[0]["operation"] == "invalidate"


async def test_functions_need_a_cache() -> None:
    @cached(ttl=5)
    async def orphan() -> int:
        return 1

    with pytest.raises(RuntimeError, match="not an endpoint"):
        await orphan()


def test_only_async_functions_can_be_cached() -> None:
    with pytest.raises(TypeError, match="async"):
        cached()(lambda: 1)  # type: ignore[arg-type, return-value]


async def test_cached_and_conditional_endpoints_need_the_middleware(logs: LogCapture) -> None:
    cache = Cache(MemoryCache())
    app = FastAPI(lifespan=cache.lifespan)  # the middleware was not installed
    install_error_handlers(app)

    @app.get("/cached")
    @cached()
    async def cached_route() -> dict[str, int]:
        return {}

    @app.get("/conditional")
    @conditional
    async def conditional_route() -> dict[str, int]:
        return {}

    async with app_client(app) as client:
        responses = [await client.get(path) for path in ("/cached", "/conditional")]
    assert [r.status_code for r in responses] == [500, 500]
    assert "cache middleware" in logs.named("unhandled_exception")[0]["exception"]


async def test_get_cache_without_a_cache_is_a_500(logs: LogCapture) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/x")
    async def x(cache: CacheDep) -> None:
        return None

    async with client_for(app) as client:
        assert (await client.get("/x")).status_code == 500
    assert "no Cache in the lifespan state" in logs.named("unhandled_exception")[0]["exception"]
