"""A cache in Redis, shared by every instance (``pip install "fastapi-kit[redis]"``)."""

from __future__ import annotations

import math
import secrets
from typing import TYPE_CHECKING, Any

from fastapi_kit._extras import optional_extra
from fastapi_kit.cache.base import CacheError

with optional_extra("redis"):
    from redis.exceptions import RedisError

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    from redis.asyncio import Redis

    from fastapi_kit._redis import FailureHook

__all__ = ("RedisCache",)

# KEYS = value key, then (tag set, generation) pairs; ARGV = value, ttl ms, tag count,
# then the expected generation of each tag ('' when not checking).
_SET = """
local tags = tonumber(ARGV[3])
for i = 1, tags do
  local expected = ARGV[3 + i]
  local current = tonumber(redis.call('GET', KEYS[1 + 2 * i]) or '0')
  if expected ~= '' and current ~= tonumber(expected) then return 0 end
end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
for i = 1, tags do
  local tagset = KEYS[2 * i]
  redis.call('SADD', tagset, KEYS[1])
  if redis.call('PTTL', tagset) < ttl then redis.call('PEXPIRE', tagset, ttl) end
end
return 1
"""
# KEYS = (tag set, generation) pairs; ARGV = generation TTL ms.
_INVALIDATE = """
for i = 1, #KEYS, 2 do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members, 500 do
    redis.call('UNLINK', unpack(members, j, math.min(j + 499, #members)))
  end
  redis.call('UNLINK', KEYS[i])
  redis.call('INCR', KEYS[i + 1])
  redis.call('PEXPIRE', KEYS[i + 1], ARGV[1])
end
return 1
"""
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
#: How long a tag's generation is remembered after its last invalidation.
GENERATION_TTL_MS = 24 * 3600 * 1000
_CLEAR_BATCH = 500


class RedisCache:
    """A [`CacheBackend`][fastapi_kit.cache.CacheBackend] in Redis.

    * ``{namespace}:v:{key}`` holds a value, with its TTL.
    * ``{namespace}:t:{tag}`` is the set of keys filed under a tag; its TTL is kept
      at least as long as its longest entry's, so tag sets never outlive their
      entries for long.
    * ``{namespace}:g:{tag}`` is the tag's generation, bumped by each invalidation.

    Storing (value, tag sets and the generation check) and invalidating (members,
    tag set, generation) are each one Lua script: atomic, one round trip. Reads are
    one ``GET``/``MGET``. No ``KEYS`` scan is ever used; ``clear`` iterates with
    ``SCAN``.

    Args:
        redis: An async client (``fastapi_kit`` makes one from ``REDIS_URL``).
        namespace: Prefix of every key.
        on_failure: Called with the error of each call that fails (before it is
            raised as a ``CacheError``): ``metrics.redis_failure("cache")``.
    """

    def __init__(
        self, redis: Redis, *, namespace: str = "kit:cache", on_failure: FailureHook | None = None
    ) -> None:
        self.redis = redis
        self.namespace = namespace
        self.on_failure = on_failure
        self._set = redis.register_script(_SET)
        self._invalidate = redis.register_script(_INVALIDATE)
        self._unlock = redis.register_script(_UNLOCK)

    def _value(self, key: str) -> str:
        return f"{self.namespace}:v:{key}"

    def _tagset(self, tag: str) -> str:
        return f"{self.namespace}:t:{tag}"

    def _generation(self, tag: str) -> str:
        return f"{self.namespace}:g:{tag}"

    async def _call(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except (RedisError, OSError) as exc:
            raise self._failed(exc) from exc

    def _failed(self, error: Exception) -> CacheError:
        if self.on_failure is not None:
            self.on_failure(error)
        return CacheError(str(error))

    async def get(self, key: str) -> bytes | None:
        """Return the value under ``key``, or ``None``."""
        value: bytes | None = await self._call(self.redis.get(self._value(key)))
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Return the values under ``keys``, with one ``MGET``."""
        if not keys:
            return []
        values: list[bytes | None] = await self._call(
            self.redis.mget([self._value(key) for key in keys])
        )
        return values

    async def read(self, key: str, tags: Sequence[str]) -> tuple[bytes | None, dict[str, int]]:
        """Return the value under ``key`` and the generations of ``tags``, with one ``MGET``."""
        values = await self._call(
            self.redis.mget([self._value(key), *(self._generation(tag) for tag in tags)])
        )
        generations = {tag: int(value or 0) for tag, value in zip(tags, values[1:], strict=True)}
        return values[0], generations

    async def set(
        self,
        key: str,
        value: bytes,
        ttl: float,
        tags: Collection[str] = (),
        generations: Mapping[str, int] | None = None,
    ) -> bool:
        """Store ``value``, unless a tag was invalidated since ``generations`` were read."""
        tag_list = list(tags)
        keys = [self._value(key)]
        for tag in tag_list:
            keys += [self._tagset(tag), self._generation(tag)]
        expected = [
            "" if generations is None or tag not in generations else str(generations[tag])
            for tag in tag_list
        ]
        ttl_ms = max(1, math.ceil(ttl * 1000))
        stored = await self._call(
            self._set(keys=keys, args=[value, ttl_ms, len(tag_list), *expected])
        )
        return bool(stored)

    async def delete(self, *keys: str) -> None:
        """Remove ``keys``."""
        if keys:
            await self._call(self.redis.unlink(*(self._value(key) for key in keys)))

    async def invalidate(self, tags: Collection[str]) -> None:
        """Remove every entry under ``tags`` and bump their generations, in one script."""
        keys: list[str] = []
        for tag in tags:
            keys += [self._tagset(tag), self._generation(tag)]
        if keys:
            await self._call(self._invalidate(keys=keys, args=[GENERATION_TTL_MS]))

    async def lock(self, name: str, ttl: float) -> str | None:
        """Take ``name`` with ``SET NX PX``; ``None`` if someone holds it."""
        token = secrets.token_hex(8)
        taken = await self._call(
            self.redis.set(
                f"{self.namespace}:l:{name}", token, nx=True, px=max(1, math.ceil(ttl * 1000))
            )
        )
        return token if taken else None

    async def unlock(self, name: str, token: str) -> None:
        """Release ``name`` if ``token`` still holds it (compare and delete)."""
        await self._call(self._unlock(keys=[f"{self.namespace}:l:{name}"], args=[token]))

    async def clear(self) -> None:
        """Remove every value and tag set of the namespace (``SCAN``, in batches).

        Generations are kept, so writes computed before the clear stay refused.
        """
        try:
            for kind in ("v", "t"):
                batch: list[bytes] = []
                async for key in self.redis.scan_iter(match=f"{self.namespace}:{kind}:*"):
                    batch.append(key)
                    if len(batch) == _CLEAR_BATCH:
                        await self.redis.unlink(*batch)
                        batch = []
                if batch:
                    await self.redis.unlink(*batch)
        except (RedisError, OSError) as exc:
            raise self._failed(exc) from exc

    async def ping(self) -> None:
        """Raise ``CacheError`` when Redis does not answer (a probe: not counted as a failure)."""
        try:
            await self.redis.ping()
        except (RedisError, OSError) as exc:
            raise CacheError(str(exc)) from exc
