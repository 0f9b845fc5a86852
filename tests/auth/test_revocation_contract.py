"""One contract suite over every revocation store: memory, and a real Redis."""

from __future__ import annotations

import asyncio
import time

import pytest

from fastapi_kit.auth import MemoryRevocationStore, RevocationStoreError, TokenClaims
from fastapi_kit.auth.revocation.redis import RedisRevocationStore
from services import RedisServer

Store = MemoryRevocationStore | RedisRevocationStore


def token(
    subject: str = "1", token_id: str = "t1", family: str = "f1", issued_at: float | None = None
) -> TokenClaims:
    now = time.time() if issued_at is None else issued_at
    return TokenClaims(
        subject=subject,
        token_id=token_id,
        family=family,
        type="access",
        roles=frozenset(),
        issued_at=now,
        expires_at=now + 900,
    )


async def test_nothing_is_revoked_at_first(store: Store) -> None:
    assert not await store.is_revoked(token())


async def test_revoking_one_token_leaves_its_family(store: Store) -> None:
    await store.revoke_token("t1", time.time() + 60)
    assert await store.is_revoked(token(token_id="t1"))
    assert not await store.is_revoked(token(token_id="t2"))


async def test_revoking_a_family_revokes_all_its_tokens(store: Store) -> None:
    await store.revoke_family("f1", time.time() + 60)
    assert await store.is_revoked(token(token_id="a", family="f1"))
    assert await store.is_revoked(token(token_id="b", family="f1"))
    assert not await store.is_revoked(token(token_id="c", family="f2"))


async def test_revoking_a_subject_revokes_what_was_issued_before(store: Store) -> None:
    now = time.time()
    await store.revoke_subject("1", now, now + 60)
    assert await store.is_revoked(token(subject="1", issued_at=now - 0.001))
    assert not await store.is_revoked(token(subject="1", issued_at=now + 0.001))
    assert not await store.is_revoked(token(subject="2", issued_at=now - 10))


async def test_a_subject_cutoff_never_moves_back(store: Store) -> None:
    now = time.time()
    await store.revoke_subject("1", now, now + 60)
    await store.revoke_subject("1", now - 30, now + 60)  # a late, older revocation
    assert await store.is_revoked(token(subject="1", issued_at=now - 1))


async def test_use_once_lets_exactly_one_of_concurrent_uses_win(store: Store) -> None:
    results = await asyncio.gather(*(store.use_once("r1", time.time() + 60) for _ in range(25)))
    assert results.count(True) == 1
    assert not await store.use_once("r1", time.time() + 60)
    assert await store.use_once("r2", time.time() + 60)


async def test_the_stores_clock_is_the_wall_clock(store: Store) -> None:
    # On one machine the store's clock and this process's agree; across machines,
    # the store's is the one every instance reads.
    before = time.time()
    now = await store.now()
    assert before - 1 < now < time.time() + 1
    assert now != int(now) or await store.now() != now  # sub-second resolution


async def test_ping(store: Store) -> None:
    await store.ping()


async def test_memory_entries_expire_with_the_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryRevocationStore()
    now = time.time()
    await store.revoke_token("t1", now + 60)
    monkeypatch.setattr("time.time", lambda: now + 61)
    assert not await store.is_revoked(token(token_id="t1", issued_at=now))
    await store.revoke_token("t2", now + 200)  # writing sweeps the expired entries out
    assert set(store._entries) == {"jti:t2"}  # memory stays bounded


@pytest.mark.redis
async def test_redis_keys_live_as_long_as_the_tokens(redis_url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    store = RedisRevocationStore(client, prefix="ttl")
    try:
        await store.revoke_token("t1", time.time() + 120)
        await store.revoke_family("f1", time.time() + 3600)
        await store.revoke_subject("u1", time.time(), time.time() + 7200)
        ttls = [await client.pttl(f"ttl:{key}") for key in ("jti:t1", "fam:f1", "sub:u1")]
    finally:
        await client.aclose()
    assert 110_000 < ttls[0] <= 120_000
    assert 3_590_000 < ttls[1] <= 3_600_000
    assert 7_190_000 < ttls[2] <= 7_200_000


@pytest.mark.redis
async def test_redis_checks_take_one_round_trip(redis_url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    commands: list[str] = []
    original = client.execute_command

    async def counted(*args: object, **kwargs: object) -> object:
        commands.append(str(args[0]))
        return await original(*args, **kwargs)

    client.execute_command = counted  # type: ignore[method-assign]
    try:
        await RedisRevocationStore(client).is_revoked(token())
    finally:
        await client.aclose()
    assert commands == ["MGET"]


@pytest.mark.redis
async def test_an_unreachable_redis_raises_the_store_error(
    redis_server: RedisServer, redis_url: str
) -> None:
    from fastapi_kit._redis import create_redis

    client = create_redis(redis_url)
    store = RedisRevocationStore(client)
    try:
        redis_server.stop()
        for call in (
            store.is_revoked(token()),
            store.revoke_token("t", time.time() + 5),
            store.revoke_subject("1", time.time(), time.time() + 5),
            store.use_once("t", time.time() + 5),
            store.now(),
        ):
            with pytest.raises(RevocationStoreError):
                await call
        redis_server.start()
        assert not await store.is_revoked(token())  # reconnects by itself
    finally:
        await client.aclose()
