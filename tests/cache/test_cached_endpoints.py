"""Endpoint caching: per-user keys, headers, ETags, invalidation, stampedes, outages."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from cache.app import World, bearer, make_app
from fastapi_kit.cache import Cache
from fastapi_kit.testing import app_client
from services import RedisServer


async def test_one_users_entry_is_never_served_to_another() -> None:
    world = World(todos={"1": ["alpha"], "2": ["beta"]})
    app, auth, _ = make_app(world)
    async with app_client(app) as client:
        a1 = await client.get("/todos", headers=bearer(auth, "1"))
        b1 = await client.get("/todos", headers=bearer(auth, "2"))
        a2 = await client.get("/todos", headers=bearer(auth, "1"))
        b2 = await client.get("/todos", headers=bearer(auth, "2"))
    assert [r.headers["x-cache"] for r in (a1, b1, a2, b2)] == ["MISS", "MISS", "HIT", "HIT"]
    assert a2.json()["items"] == ["alpha"]
    assert b2.json()["items"] == ["beta"]
    assert world.runs["todos"] == 2


async def test_cache_headers() -> None:
    world = World()
    app, auth, _ = make_app(world)
    async with app_client(app) as client:
        miss = await client.get("/todos", headers=bearer(auth, "1"))
        hit = await client.get("/todos", headers=bearer(auth, "1"))
        public = await client.get("/news")
    for response in (miss, hit):
        assert response.headers["cache-control"] == "private, max-age=30"
        assert response.headers["vary"] == "Authorization, Cookie"
        assert response.headers["etag"].startswith('"')
        assert response.headers["content-type"] == "application/json"
    assert miss.headers["etag"] == hit.headers["etag"]
    assert miss.content == hit.content
    assert public.headers["cache-control"] == "public, max-age=10"


async def test_query_parameters_are_part_of_the_key_in_any_order() -> None:
    world = World()
    app, auth, _ = make_app(world)
    headers = bearer(auth, "1")
    async with app_client(app) as client:
        first = await client.get("/todos?done=true&x=1", headers=headers)
        reordered = await client.get("/todos?x=1&done=true", headers=headers)
        other = await client.get("/todos?done=false", headers=headers)
    assert [r.headers["x-cache"] for r in (first, reordered, other)] == ["MISS", "HIT", "MISS"]


async def test_parameters_the_route_ignores_make_no_entries() -> None:
    world = World()
    app, auth, cache = make_app(world)
    headers = bearer(auth, "1")
    async with app_client(app) as client:
        responses = [await client.get(f"/todos?junk={n}", headers=headers) for n in range(50)]
    assert [r.headers["x-cache"] for r in responses] == ["MISS"] + ["HIT"] * 49
    assert world.runs["todos"] == 1
    assert len(cache.backend) == 1  # type: ignore[arg-type]  # a MemoryCache


async def test_repeated_parameters_are_keyed_by_the_value_the_endpoint_gets() -> None:
    world = World()
    app, auth, _ = make_app(world)
    headers = bearer(auth, "1")
    async with app_client(app) as client:
        last_true = await client.get("/todos?done=false&done=true", headers=headers)
        last_false = await client.get("/todos?done=true&done=false", headers=headers)
        plain_true = await client.get("/todos?done=true", headers=headers)
    assert last_true.json()["done"] is True
    assert last_false.json()["done"] is False  # not the page cached for "done=true"
    assert last_false.headers["x-cache"] == "MISS"
    assert plain_true.headers["x-cache"] == "HIT"


async def test_list_and_dependency_parameters_are_part_of_the_key() -> None:
    world = World()
    app, auth, _ = make_app(world)
    headers = bearer(auth, "1")
    async with app_client(app) as client:
        pages = [
            await client.get(url, headers=headers)
            for url in (
                "/search?tag=a&tag=b",
                "/search?tag=b&tag=a",  # another list: FastAPI keeps the order
                "/search?tag=a&tag=b&page=2",  # declared by a dependency
                "/search?page=2&tag=a&tag=b&unknown=1",
            )
        ]
    assert [r.json() for r in pages] == [
        {"page": 1, "tags": ["a", "b"]},
        {"page": 1, "tags": ["b", "a"]},
        {"page": 2, "tags": ["a", "b"]},
        {"page": 2, "tags": ["a", "b"]},
    ]
    assert [r.headers["x-cache"] for r in pages] == ["MISS", "MISS", "MISS", "HIT"]


@pytest.mark.parametrize(
    ("path", "first", "second"),
    [
        ("/filtered", "q=a&limit=1", "q=b&limit=2"),  # a query parameter model
        ("/aliased", "y=1", "y=2"),  # read under its validation alias
        ("/choices", "b=1", "b=2"),  # read under one of its alias choices
        ("/raw", "owner=alice", "owner=bob"),  # read by app code from the request
        ("/own-request", "lang=fr", "lang=de"),  # read by the endpoint from the request
    ],
)
async def test_parameters_read_in_other_ways_still_make_their_own_entries(
    path: str, first: str, second: str
) -> None:
    app, _, _ = make_app(World())
    async with app_client(app) as client:
        one = await client.get(f"{path}?{first}")
        two = await client.get(f"{path}?{second}")
        again = await client.get(f"{path}?{first}")
    assert one.json() != two.json()
    assert [r.headers["x-cache"] for r in (one, two, again)] == ["MISS", "MISS", "HIT"]


async def test_endpoints_taking_the_request_themselves_still_get_it() -> None:
    app, _, _ = make_app(World())
    async with app_client(app) as client:
        first = await client.get("/echo-path")
        again = await client.get("/echo-path", headers={"If-None-Match": first.headers["etag"]})
    assert first.json() == {"path": "/echo-path"}
    assert again.status_code == 304


async def test_a_custom_key_still_separates_users() -> None:
    world = World()
    app, auth, _ = make_app(world)
    async with app_client(app) as client:
        await client.get("/by-key?page=1", headers=bearer(auth, "1"))
        same_key = await client.get("/by-key?page=2", headers=bearer(auth, "1"))
        other_user = await client.get("/by-key?page=2", headers=bearer(auth, "2"))
    assert same_key.headers["x-cache"] == "HIT"  # the key ignores the page, as asked
    assert same_key.json() == {"page": 1}
    assert other_user.headers["x-cache"] == "MISS"


async def test_anonymous_responses_are_shared_only_when_public() -> None:
    world = World()
    app, _, _ = make_app(world)
    async with app_client(app) as client:
        news = [await client.get("/news") for _ in range(2)]
        private = [await client.get("/private-anonymous") for _ in range(2)]
    assert [r.headers["x-cache"] for r in news] == ["MISS", "HIT"]
    assert world.runs["news"] == 1
    assert [r.headers["x-cache"] for r in private] == ["BYPASS", "BYPASS"]
    assert [r.json()["run"] for r in private] == [1, 2]  # never stored


async def test_if_none_match_gets_a_304_without_a_body() -> None:
    world = World()
    app, auth, _ = make_app(world)
    headers = bearer(auth, "1")
    async with app_client(app) as client:
        first = await client.get("/todos", headers=headers)
        etag = first.headers["etag"]
        on_hit = await client.get("/todos", headers={**headers, "If-None-Match": etag})
        other = await client.get("/todos", headers={**headers, "If-None-Match": '"other"'})
        weak = await client.get("/todos", headers={**headers, "If-None-Match": f"W/{etag}"})
    assert on_hit.status_code == 304
    assert on_hit.content == b""
    assert on_hit.headers["etag"] == etag
    assert "content-type" not in on_hit.headers
    assert other.status_code == 200
    assert weak.status_code == 304


async def test_a_miss_answers_if_none_match_too() -> None:
    world = World()
    app, auth, cache = make_app(world)
    headers = bearer(auth, "1")
    async with app_client(app) as client:
        etag = (await client.get("/todos", headers=headers)).headers["etag"]
        await cache.invalidate(["todos:1"])  # the entry is gone, the data is the same
        response = await client.get("/todos", headers={**headers, "If-None-Match": etag})
    assert response.status_code == 304
    assert response.headers["x-cache"] == "MISS"


async def test_etags_are_the_same_on_two_instances() -> None:
    world = World(todos={"1": ["same"]})
    (app_a, auth, _), (app_b, _, _) = make_app(world), make_app(world)
    async with app_client(app_a) as a, app_client(app_b) as b:
        on_a = await a.get("/todos", headers=bearer(auth, "1"))
        on_b = await b.get("/todos", headers=bearer(auth, "1"))
        revalidated = await b.get(
            "/todos", headers={**bearer(auth, "1"), "If-None-Match": on_a.headers["etag"]}
        )
    assert on_a.headers["etag"] == on_b.headers["etag"]
    assert revalidated.status_code == 304


async def test_errors_are_never_cached() -> None:
    world = World(fail=True)
    app, auth, _ = make_app(world)
    headers = bearer(auth, "1")
    async with app_client(app) as client:
        failures = [await client.get("/todos", headers=headers) for _ in range(2)]
        world.fail = False
        success = await client.get("/todos", headers=headers)
    assert [r.status_code for r in failures] == [404, 404]
    assert "x-cache" not in failures[0].headers
    assert world.runs["todos"] == 3
    assert success.headers["x-cache"] == "MISS"


async def test_a_clients_no_cache_does_not_force_a_miss() -> None:
    world = World()
    app, auth, _ = make_app(world)
    headers = bearer(auth, "1")
    async with app_client(app) as client:
        await client.get("/todos", headers=headers)
        response = await client.get(
            "/todos", headers={**headers, "Cache-Control": "no-cache", "Pragma": "no-cache"}
        )
    assert response.headers["x-cache"] == "HIT"


async def test_authentication_runs_before_a_hit_is_served() -> None:
    world = World()
    app, auth, _ = make_app(world)
    pair = auth.tokens.issue_pair("1")
    headers = {"Authorization": f"Bearer {pair.access_token}"}
    async with app_client(app) as client:
        assert (await client.get("/todos", headers=headers)).headers["x-cache"] == "MISS"
        assert (await client.get("/todos", headers=headers)).headers["x-cache"] == "HIT"
        await auth.logout(pair.access)
        revoked = await client.get("/todos", headers=headers)
        anonymous = await client.get("/todos")
    assert revoked.status_code == 401
    assert anonymous.status_code == 401


async def test_writes_invalidate_and_the_writer_reads_its_own_write() -> None:
    world = World()
    app, auth, _ = make_app(world)
    headers = bearer(auth, "1")
    async with app_client(app) as client:
        await client.get("/todos", headers=headers)
        await client.post("/todos", params={"title": "new"}, headers=headers)
        after = await client.get("/todos", headers=headers)
    assert after.headers["x-cache"] == "MISS"
    assert after.json()["items"] == ["new"]


async def test_a_read_racing_a_slow_commit_leaves_no_stale_entry() -> None:
    world = World(commit=asyncio.Event())
    app, auth, _ = make_app(world)
    headers = bearer(auth, "1")
    async with app_client(app) as client:
        writing = asyncio.ensure_future(
            client.post("/todos", params={"title": "new"}, headers=headers)
        )
        await world.written.wait()  # the write invalidated, and has not committed
        racing = await client.get("/todos", headers=headers)  # reads the old data
        world.commit.set()
        assert (await writing).status_code == 201
        after = await client.get("/todos", headers=headers)
    assert racing.json()["items"] == []
    # The entry stored by the racing read was removed when the write completed.
    assert after.json()["items"] == ["new"]
    assert after.headers["x-cache"] == "MISS"


def count_reads(cache: Cache, expected: int) -> asyncio.Event:
    """An event set once the cache has been read ``expected`` times."""
    done = asyncio.Event()
    reads = 0
    read = cache.backend.read

    async def counted(key: str, tags: Sequence[str]) -> tuple[bytes | None, dict[str, int]]:
        nonlocal reads
        result = await read(key, tags)
        reads += 1
        if reads == expected:
            done.set()
        return result

    cache.backend.read = counted  # type: ignore[method-assign]
    return done


async def test_concurrent_misses_compute_once() -> None:
    world = World(gate=asyncio.Event())
    app, auth, cache = make_app(world)
    headers = bearer(auth, "1")
    all_read = count_reads(cache, 20)
    async with app_client(app) as client:
        first = asyncio.ensure_future(client.get("/todos", headers=headers))
        await world.computing.wait()
        others = [asyncio.ensure_future(client.get("/todos", headers=headers)) for _ in range(19)]
        await all_read.wait()  # every request missed and now waits for the first one
        await asyncio.sleep(0)
        world.gate.set()
        responses = await asyncio.gather(first, *others)
    assert world.runs["todos"] == 1
    labels = sorted(r.headers["x-cache"] for r in responses)
    assert labels == ["HIT"] * 19 + ["MISS"]
    assert len({r.content for r in responses}) == 1


async def test_non_get_requests_go_straight_through() -> None:
    world = World()
    app, auth, _ = make_app(world)
    async with app_client(app) as client:
        response = await client.post("/todos", params={"title": "x"}, headers=bearer(auth, "1"))
    assert "x-cache" not in response.headers


async def test_conditional_endpoints_answer_if_none_match() -> None:
    world = World()
    app, _, _ = make_app(world)
    async with app_client(app) as client:
        first = await client.get("/things/7")
        again = await client.get("/things/7", headers={"If-None-Match": first.headers["etag"]})
        other = await client.get("/things/8", headers={"If-None-Match": first.headers["etag"]})
    assert "x-cache" not in first.headers
    assert again.status_code == 304
    assert other.status_code == 200
    assert world.runs["thing"] == 3  # computed each time: only the transfer is saved


@pytest.mark.redis
async def test_invalidation_on_one_instance_is_seen_by_the_other(redis_url: str) -> None:
    world = World()
    (app_a, auth, _), (app_b, _, _) = make_app(world, redis_url), make_app(world, redis_url)
    headers = bearer(auth, "1")
    async with app_client(app_a) as a, app_client(app_b) as b:
        await a.get("/todos", headers=headers)
        assert (await b.get("/todos", headers=headers)).headers["x-cache"] == "HIT"  # shared
        await a.post("/todos", params={"title": "from a"}, headers=headers)
        on_b = await b.get("/todos", headers=headers)
    assert on_b.json()["items"] == ["from a"]
    assert on_b.headers["x-cache"] == "MISS"


@pytest.mark.redis
async def test_concurrent_misses_across_instances_compute_once(redis_url: str) -> None:
    world = World(gate=asyncio.Event())
    (app_a, auth, _), (app_b, _, cache_b) = make_app(world, redis_url), make_app(world, redis_url)
    headers = bearer(auth, "1")
    polling = asyncio.Event()
    get = cache_b.backend.get

    async def signalled_get(key: str) -> bytes | None:
        polling.set()  # b found the lock taken and polls for a's result
        return await get(key)

    cache_b.backend.get = signalled_get  # type: ignore[method-assign]
    async with app_client(app_a) as a, app_client(app_b) as b:
        first = asyncio.ensure_future(a.get("/todos", headers=headers))
        await world.computing.wait()  # instance a holds the lock and computes
        second = asyncio.ensure_future(b.get("/todos", headers=headers))
        await polling.wait()
        world.gate.set()
        responses = await asyncio.gather(first, second)
    assert world.runs["todos"] == 1
    assert [r.headers["x-cache"] for r in responses] == ["MISS", "HIT"]


@pytest.mark.redis
async def test_redis_down_serves_uncached_then_recovers(
    redis_server: RedisServer, redis_url: str
) -> None:
    world = World()
    app, auth, _ = make_app(world, redis_url)
    headers = bearer(auth, "1")
    async with app_client(app) as client:
        await client.get("/todos", headers=headers)
        redis_server.stop()
        down = [await client.get("/todos", headers=headers) for _ in range(2)]
        ready = await client.get("/readyz")
        redis_server.start()
        back = [await client.get("/todos", headers=headers) for _ in range(2)]
    assert [r.status_code for r in down] == [200, 200]
    assert [r.headers["x-cache"] for r in down] == ["BYPASS", "BYPASS"]
    assert "etag" not in down[0].headers
    assert ready.status_code == 503
    assert [r.headers["x-cache"] for r in back] == ["MISS", "HIT"]
