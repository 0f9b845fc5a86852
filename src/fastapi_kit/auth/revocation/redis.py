"""Revocations in Redis: shared by every instance, one round trip per check.

Needs the ``redis`` extra (``pip install "fastapi-kit[redis]"``).
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from fastapi_kit._extras import optional_extra
from fastapi_kit.auth.revocation.base import RevocationStoreError

with optional_extra("redis"):
    from redis.exceptions import RedisError

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from fastapi_kit._redis import FailureHook
    from fastapi_kit.auth.tokens import TokenClaims

__all__ = ("RedisRevocationStore",)


def _ttl_ms(until: float) -> int:
    return max(1, math.ceil((until - time.time()) * 1000))


class RedisRevocationStore:
    """A [`TokenRevocationStore`][fastapi_kit.auth.TokenRevocationStore] in Redis.

    Each revocation is one key whose TTL is the remaining lifetime of the tokens it
    concerns. A check reads the token's, its family's and its subject's keys with
    one ``MGET``; marking a refresh token used is one ``SET NX``, so of concurrent
    refreshes exactly one wins, on every instance.

    Args:
        redis: An async client (``fastapi_kit`` makes one from ``REDIS_URL``).
        prefix: Namespace of the keys.
        on_failure: Called with the error of each call that fails (before it is
            raised as a ``RevocationStoreError``): ``metrics.redis_failure("revocation")``.
    """

    def __init__(
        self, redis: Redis, *, prefix: str = "kit:auth", on_failure: FailureHook | None = None
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.on_failure = on_failure

    async def revoke_token(self, token_id: str, until: float) -> None:
        """Refuse the token ``token_id`` from now on."""
        await self._set(f"{self.prefix}:jti:{token_id}", b"1", until)

    async def revoke_family(self, family: str, until: float) -> None:
        """Refuse every token of ``family``."""
        await self._set(f"{self.prefix}:fam:{family}", b"1", until)

    async def revoke_subject(self, subject: str, before: float, until: float) -> None:
        """Refuse every token of ``subject`` issued before ``before``."""
        # Cut-offs only move forward, so a late write cannot reopen older tokens.
        key = f"{self.prefix}:sub:{subject}"
        script = (
            "local current = tonumber(redis.call('GET', KEYS[1]) or '0') "
            "if tonumber(ARGV[1]) > current then "
            "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end return 1"
        )
        try:
            await self.redis.eval(script, 1, key, repr(before), _ttl_ms(until))
        except (RedisError, OSError) as exc:
            raise self._failed(exc) from exc

    async def is_revoked(self, claims: TokenClaims) -> bool:
        """Whether the token, its family or its subject was revoked (one ``MGET``)."""
        try:
            token, family, cutoff = await self.redis.mget(
                f"{self.prefix}:jti:{claims.token_id}",
                f"{self.prefix}:fam:{claims.family}",
                f"{self.prefix}:sub:{claims.subject}",
            )
        except (RedisError, OSError) as exc:
            raise self._failed(exc) from exc
        return (
            token is not None
            or family is not None
            or (cutoff is not None and claims.issued_at < float(cutoff))
        )

    async def use_once(self, token_id: str, until: float) -> bool:
        """Mark ``token_id`` used; ``False`` if it already was (``SET NX``)."""
        try:
            first = await self.redis.set(
                f"{self.prefix}:used:{token_id}", b"1", nx=True, px=_ttl_ms(until)
            )
        except (RedisError, OSError) as exc:
            raise self._failed(exc) from exc
        return bool(first)

    async def now(self) -> float:
        """Redis's clock (``TIME``), the one every instance shares."""
        try:
            seconds, microseconds = await self.redis.time()
        except (RedisError, OSError) as exc:
            raise self._failed(exc) from exc
        return seconds + microseconds / 1_000_000

    async def ping(self) -> None:
        """Raise when Redis does not answer."""
        await self.redis.ping()

    async def _set(self, key: str, value: bytes, until: float) -> None:
        try:
            await self.redis.set(key, value, px=_ttl_ms(until))
        except (RedisError, OSError) as exc:
            raise self._failed(exc) from exc

    def _failed(self, error: Exception) -> RevocationStoreError:
        if self.on_failure is not None:
            self.on_failure(error)
        return RevocationStoreError(str(error))
