"""Fixtures of the accounts tests: a revocation store of each kind."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fastapi_kit.auth import MemoryRevocationStore
from fastapi_kit.auth.revocation.redis import RedisRevocationStore


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(
    request: pytest.FixtureRequest,
) -> AsyncIterator[MemoryRevocationStore | RedisRevocationStore]:
    """An empty revocation store: in memory, and in a real Redis."""
    if request.param == "memory":
        yield MemoryRevocationStore()
        return
    from redis.asyncio import Redis

    client = Redis.from_url(request.getfixturevalue("redis_url"))
    try:
        yield RedisRevocationStore(client, prefix="test")
    finally:
        await client.aclose()
