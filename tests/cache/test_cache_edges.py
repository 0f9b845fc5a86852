"""Edge cases: streamed bodies, failing stores, crashed lock holders, other methods."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import StreamingResponse

from fastapi_kit import Kit, KitSettings
from fastapi_kit.cache import Cache, CacheError, MemoryCache, cached, etag_matches
from fastapi_kit.testing import app_client
from helpers import LogCapture


def kit_app(backend: MemoryCache | None = None, **cache_options: float) -> tuple[FastAPI, Cache]:
    kit = Kit(KitSettings(gc_freeze=False, cache_ttl=30))
    cache = kit.use_cache(backend=backend)
    for name, value in cache_options.items():
        setattr(cache, name, value)
    return kit.install(FastAPI(), logging=False), cache


def test_if_none_match_star_and_lists() -> None:
    assert etag_matches("*", '"a"')
    assert etag_matches('"x", "a"', '"a"')
    assert etag_matches('W/"a"', '"a"')
    assert not etag_matches("", '"a"')
    assert not etag_matches(None, '"a"')


async def test_duplicate_tags_are_harmless() -> None:
    cache = MemoryCache()
    await cache.set("k", b"v", 60, tags=["t", "t"])
    await cache.delete("k")
    await cache.invalidate(["t"])
    assert len(cache) == 0


async def test_streamed_responses_are_stored_whole() -> None:
    app, _ = kit_app()
    runs = 0

    @app.get("/report")
    @cached(public=True)
    async def report() -> StreamingResponse:
        nonlocal runs
        runs += 1

        async def lines() -> AsyncIterator[bytes]:
            for n in range(3):
                yield f"line {n}\n".encode()

        return StreamingResponse(lines(), media_type="text/plain")

    async with app_client(app) as client:
        miss, hit = await client.get("/report"), await client.get("/report")
    assert miss.text == hit.text == "line 0\nline 1\nline 2\n"
    assert hit.headers["x-cache"] == "HIT"
    assert hit.headers["content-type"].startswith("text/plain")
    assert runs == 1


async def test_a_failing_store_labels_the_response_bypass(logs: LogCapture) -> None:
    class ReadOnly(MemoryCache):
        async def set(self, *args: object, **kwargs: object) -> bool:
            raise CacheError("read-only replica")

    app, _ = kit_app(ReadOnly())

    @app.get("/news")
    @cached(public=True)
    async def news() -> list[str]:
        return ["a"]

    async with app_client(app) as client:
        response = await client.get("/news")
    assert response.status_code == 200
    assert response.headers["x-cache"] == "BYPASS"
    assert logs.named("cache_unavailable")[0]["operation"] == "store"


async def test_a_crashed_lock_holder_delays_readers_only_briefly() -> None:
    backend = MemoryCache()
    app, cache = kit_app(backend, lock_wait=0.05)
    runs = 0

    @app.get("/news")
    @cached(public=True)
    async def news() -> list[str]:
        nonlocal runs
        runs += 1
        return ["fresh"]

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/news",
        "query_string": b"",
        "headers": [],
        "server": ("testserver", 80),
        "scheme": "http",
    }
    key = cache.request_key(Request(scope), None, None)  # the entry the request will use
    assert await backend.lock(key, 3600) is not None  # held by a holder that crashed
    async with app_client(app) as client:
        response = await client.get("/news")
    assert response.status_code == 200
    assert response.headers["x-cache"] == "MISS"  # it waited, then computed itself
    assert runs == 1


async def test_other_methods_of_a_cached_route_are_not_cached() -> None:
    app, _ = kit_app()
    runs = 0

    @app.api_route("/both", methods=["GET", "POST"])
    @cached(public=True)
    async def both() -> dict[str, int]:
        nonlocal runs
        runs += 1
        return {"runs": runs}

    async with app_client(app) as client:
        posts = [await client.post("/both") for _ in range(2)]
    assert [r.json()["runs"] for r in posts] == [1, 2]
    assert "x-cache" not in posts[0].headers


async def test_a_failed_shared_computation_lets_waiters_compute() -> None:
    cache = Cache(MemoryCache())
    started, release = asyncio.Event(), asyncio.Event()
    attempts = 0

    @cache.cached()
    async def flaky() -> int:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            started.set()
            await release.wait()
            msg = "first attempt fails"
            raise RuntimeError(msg)
        return 42

    first = asyncio.ensure_future(flaky())
    await started.wait()
    second = asyncio.ensure_future(flaky())
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert results[1] == 42


async def test_a_value_computed_across_an_invalidation_is_returned_not_stored() -> None:
    cache = Cache(MemoryCache())
    computing, release = asyncio.Event(), asyncio.Event()
    calls = 0

    @cache.cached(tags=["t"])
    async def value() -> int:
        nonlocal calls
        calls += 1
        computing.set()
        await release.wait()
        return calls

    first = asyncio.ensure_future(value())
    await computing.wait()
    await cache.invalidate(["t"])  # the data changed while it was being read
    release.set()
    assert await first == 1
    assert await value() == 2  # recomputed: the first result was never stored


async def test_endpoint_tags_may_be_computed_from_the_request() -> None:
    app, cache = kit_app()
    runs = 0

    @app.get("/shelves/{shelf}")
    @cached(public=True, tags=lambda request: [f"shelf:{request.path_params['shelf']}"])
    async def shelf(shelf: str) -> dict[str, int]:
        nonlocal runs
        runs += 1
        return {"runs": runs}

    async with app_client(app) as client:
        await client.get("/shelves/a")
        await cache.invalidate(["shelf:a"])
        again = await client.get("/shelves/a")
    assert again.headers["x-cache"] == "MISS"
    assert runs == 2


@pytest.mark.redis
async def test_clearing_many_entries(redis_url: str) -> None:
    from redis.asyncio import Redis

    from fastapi_kit.cache.redis import RedisCache

    client = Redis.from_url(redis_url)
    backend = RedisCache(client, namespace="bulk")
    try:
        for n in range(600):
            await backend.set(f"k{n}", b"v", 60)
        await backend.clear()
        assert await client.dbsize() == 0
    finally:
        await client.aclose()
