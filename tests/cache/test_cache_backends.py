"""One contract suite over every cache backend: memory, and a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.exceptions import RedisError

from fastapi_kit.cache import CacheError, MemoryCache
from fastapi_kit.cache.redis import RedisCache
from services import RedisServer

Backend = MemoryCache | RedisCache


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        yield MemoryCache()
        return
    from redis.asyncio import Redis

    client = Redis.from_url(request.getfixturevalue("redis_url"))
    try:
        yield RedisCache(client, namespace="test")
    finally:
        await client.aclose()


async def test_set_get_delete(backend: Backend) -> None:
    assert await backend.get("a") is None
    assert await backend.set("a", b"1", 60)
    await backend.set("b", b"2", 60)
    assert await backend.get("a") == b"1"
    assert await backend.get_many(["a", "missing", "b"]) == [b"1", None, b"2"]
    assert await backend.get_many([]) == []
    await backend.delete("a", "b")
    await backend.delete()
    assert await backend.get_many(["a", "b"]) == [None, None]


async def test_set_replaces_and_values_are_opaque_bytes(backend: Backend) -> None:
    await backend.set("k", b"\x00\xff\n binary", 60)
    await backend.set("k", b"second", 60)
    assert await backend.get("k") == b"second"


async def test_invalidating_a_tag_removes_its_entries_only(backend: Backend) -> None:
    await backend.set("a1", b"1", 60, tags=["user:1"])
    await backend.set("a2", b"2", 60, tags=["user:1", "todos"])
    await backend.set("b1", b"3", 60, tags=["user:2"])
    await backend.invalidate(["user:1"])
    assert await backend.get_many(["a1", "a2", "b1"]) == [None, None, b"3"]
    await backend.invalidate(["nobody"])  # unknown tags are fine
    await backend.invalidate([])


async def test_a_value_computed_before_an_invalidation_is_never_stored(backend: Backend) -> None:
    _, seen = await backend.read("k", ["todos:1"])
    await backend.invalidate(["todos:1"])  # a write happened while we computed
    assert not await backend.set("k", b"stale", 60, tags=["todos:1"], generations=seen)
    assert await backend.get("k") is None
    value, fresh = await backend.read("k", ["todos:1"])
    assert value is None
    assert fresh["todos:1"] == seen["todos:1"] + 1
    assert await backend.set("k", b"fresh", 60, tags=["todos:1"], generations=fresh)
    assert await backend.get("k") == b"fresh"


async def test_read_returns_the_value_and_the_generations_at_once(backend: Backend) -> None:
    await backend.set("k", b"v", 60, tags=["t"])
    assert await backend.read("k", ["t", "u"]) == (b"v", {"t": 0, "u": 0})


async def test_locks_are_exclusive_and_released_by_their_holder_only(backend: Backend) -> None:
    token = await backend.lock("job", 30)
    assert token is not None
    assert await backend.lock("job", 30) is None
    await backend.unlock("job", "not-the-token")
    assert await backend.lock("job", 30) is None
    await backend.unlock("job", token)
    assert await backend.lock("job", 30) is not None


async def test_clear_empties_the_namespace(backend: Backend) -> None:
    await backend.set("a", b"1", 60, tags=["t"])
    await backend.clear()
    assert await backend.get("a") is None


async def test_concurrent_access_stays_consistent(backend: Backend) -> None:
    await asyncio.gather(
        *(backend.set(f"k{n}", str(n).encode(), 60, tags=["all"]) for n in range(50))
    )
    values = await asyncio.gather(*(backend.get(f"k{n}") for n in range(50)))
    assert values == [str(n).encode() for n in range(50)]
    await backend.invalidate(["all"])
    assert set(await backend.get_many([f"k{n}" for n in range(50)])) == {None}


async def test_ping(backend: Backend) -> None:
    await backend.ping()


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_entries_expire_without_being_read_again() -> None:
    clock = Clock()
    cache = MemoryCache(clock=clock)
    await cache.set("short", b"1" * 1000, 5)
    await cache.set("long", b"2", 50)
    await cache.set("short", b"1" * 1000, 5)  # replaced: its first expiry is stale
    clock.now += 6
    assert await cache.get("long") == b"2"  # any operation drops what expired
    assert len(cache) == 1
    assert cache.size == len("long") + 1 + MemoryCache.ENTRY_OVERHEAD
    clock.now += 50
    await cache.set("other", b"3", 50)
    assert len(cache) == 1  # "long" went without anyone reading it


async def test_memory_keeps_within_its_byte_budget() -> None:
    budget = 10 * (MemoryCache.ENTRY_OVERHEAD + 3 + 1000)  # ten entries of keys k00-k24
    cache = MemoryCache(max_bytes=budget)
    for n in range(25):
        assert await cache.set(f"k{n:02}", b"x" * 1000, 60, tags=["t"])
        assert cache.size <= budget
    assert len(cache) == 10
    kept = await cache.get_many([f"k{n:02}" for n in range(25)])
    assert [value is not None for value in kept] == [False] * 15 + [True] * 10  # LRU
    assert not await cache.set("huge", b"x" * budget, 60)  # larger than the budget
    assert len(cache) == 10  # and it pushed nothing out
    await cache.invalidate(["t"])
    assert (len(cache), cache.size) == (0, 0)
    with pytest.raises(ValueError, match="max_bytes"):
        MemoryCache(max_bytes=0)


async def test_memory_forgets_stale_expiries_as_entries_are_replaced() -> None:
    cache = MemoryCache()
    for _ in range(1000):
        await cache.set("k", b"v", 60)
    assert len(cache._expiries) <= 2 * len(cache) + 64


async def test_memory_evicts_the_least_recently_used() -> None:
    cache = MemoryCache(max_entries=3)
    for key in ("a", "b", "c"):
        await cache.set(key, b"x", 60, tags=["t"])
    await cache.get("a")  # a is now the most recently used
    await cache.set("d", b"x", 60)
    assert await cache.get_many(["a", "b", "c", "d"]) == [b"x", None, b"x", b"x"]
    await cache.invalidate(["t"])  # the evicted entry's tag link is gone too
    assert len(cache) == 1
    with pytest.raises(ValueError, match="max_entries"):
        MemoryCache(max_entries=0)


async def test_memory_generations_stay_bounded() -> None:
    cache = MemoryCache(max_entries=2)
    await cache.invalidate([f"tag{n}" for n in range(100)])
    assert len(cache._generations) == 8  # 4 x max_entries


async def test_memory_locks_expire() -> None:
    cache = MemoryCache()
    assert await cache.lock("job", -1) is not None  # already expired
    assert await cache.lock("job", 30) is not None


@pytest.mark.redis
async def test_namespaces_are_isolated(redis_url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    one, two = RedisCache(client, namespace="one"), RedisCache(client, namespace="two")
    try:
        await one.set("k", b"1", 60, tags=["t"])
        await two.set("k", b"2", 60, tags=["t"])
        await one.invalidate(["t"])
        assert (await one.get("k"), await two.get("k")) == (None, b"2")
        await two.clear()
        assert await two.get("k") is None
        assert await client.exists("two:g:t") == 0  # never invalidated: no generation
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_redis_ttls_cover_entries_and_tag_sets(redis_url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    cache = RedisCache(client, namespace="ttl")
    try:
        await cache.set("a", b"1", 30, tags=["t"])
        await cache.set("b", b"2", 90, tags=["t"])
        await cache.set("c", b"3", 10, tags=["t"])
        value_ttl = await client.pttl("ttl:v:a")
        tag_ttl = await client.pttl("ttl:t:t")
        await cache.invalidate(["t"])
        generation_ttl = await client.pttl("ttl:g:t")
    finally:
        await client.aclose()
    assert 25_000 < value_ttl <= 30_000
    assert 85_000 < tag_ttl <= 90_000  # as long as its longest entry, no longer
    assert generation_ttl > 23 * 3600 * 1000


@pytest.mark.redis
async def test_redis_errors_become_cache_errors(redis_server: RedisServer, redis_url: str) -> None:
    from fastapi_kit._redis import create_redis

    client = create_redis(redis_url)
    failures: list[BaseException] = []
    cache = RedisCache(client, on_failure=failures.append)
    try:
        redis_server.stop()
        for call in (
            cache.get("k"),
            cache.read("k", ["t"]),
            cache.set("k", b"v", 5, tags=["t"]),
            cache.invalidate(["t"]),
            cache.lock("k", 1),
            cache.clear(),
            cache.ping(),
        ):
            with pytest.raises(CacheError):
                await call
        assert len(failures) == 6  # each failed call told the hook, the probe's ping aside
        assert all(isinstance(error, RedisError | OSError) for error in failures)
        redis_server.start()
        assert await cache.set("k", b"v", 5)  # reconnects by itself
    finally:
        await client.aclose()
