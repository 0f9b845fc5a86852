"""Rate-limit counters in Redis: ``limits``' storage, one round trip per check.

``limits`` answers "did the request fit?" and "what is left?" with two Lua scripts,
one round trip each, per window. A check needs both for every window of a limit
(the second fills the headers), so ``SlidingWindowPipeline`` sends ``limits``' own
scripts for all of them in one pipeline: the same keys, the same atomic
acquisition, the same arithmetic for the numbers, one round trip.
"""

# What this module relies on beyond limits' and redis-py's public APIs (neither offers
# "acquire and read several sliding windows in one round trip"). All of it is checked,
# against limits' public SlidingWindowCounterRateLimiter (hit, test, get_window_stats)
# on a real Redis, by tests/ratelimit/test_redis_contract.py, on the installed versions
# and on the lowest that pyproject.toml allows (limits 5.1, redis 5.3.1):
#
# limits (limits.aio.storage.redis):
# - RedisStorage.bridge is a RedispyBridge (limits.aio.storage.redis.redispy) when made
#   with implementation="redispy", and RedisStorage takes key_prefix (since 5.1).
# - RedispyBridge.lua_acquire_sliding_window and .lua_sliding_window: redis-py Script
#   objects, registered by RedisStorage.__init__; only their .sha is used.
# - RedispyBridge.prefixed_key(key) -> f"{key_prefix}:{key}", and .get_connection(),
#   the redis.asyncio.Redis whose connection_pool is used.
# - The key layout of RedisStorage._current_window_key / _previous_window_key: for
#   key = item.key_for(*identifiers), "{key}" (current) and "{key}/-1" (previous),
#   each prefixed; KEYS[1] is the previous window, KEYS[2] the current one.
# - acquire_sliding_window.lua takes ARGV limit, expiry (s), amount, and replies 1 if
#   acquired, nil otherwise; sliding_window.lua takes ARGV expiry (s) and replies
#   [previous count, previous PTTL, current count, current PTTL], counts as bulk
#   strings or nil, PTTLs in ms (negative when absent): see _window.
# - SlidingWindowCounterRateLimiter.get_window_stats' arithmetic: see window_stats.
#
# redis-py (redis.asyncio):
# - ConnectionPool.get_connection() with no argument (a command name was required
#   before 5.3, is deprecated since), ConnectionPool.release(connection).
# - Connection.pack_commands, send_packed_command, read_response (raises the reply's
#   error: NoScriptError for NOSCRIPT), disconnect.

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from limits import WindowStats
from limits.errors import StorageError

from fastapi_kit._extras import optional_extra

with optional_extra("redis"):
    from limits.aio.storage import RedisStorage
    from limits.aio.storage.redis.redispy import RedispyBridge
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import NoScriptError, RedisError
    from redis.exceptions import TimeoutError as RedisTimeoutError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from limits import RateLimitItem
    from limits.aio.storage import Storage
    from redis.asyncio import Redis

    from fastapi_kit.ratelimit.limiter import Hit

__all__ = ("SlidingWindowPipeline", "redis_storage", "window_stats")


def redis_storage(redis: Redis, key_prefix: str = "kit:rl") -> RedisStorage:
    """A ``limits`` Redis storage on ``redis``'s connection pool (no second pool).

    Failures are raised as ``limits.errors.StorageError`` and retried once at most,
    on a fresh connection, like the kit's other Redis calls.
    """
    return RedisStorage(
        "async+redis://",
        implementation="redispy",
        connection_pool=redis.connection_pool,  # type: ignore[arg-type]  # passed on to redis-py
        wrap_exceptions=True,
        key_prefix=key_prefix,
        retry=Retry(NoBackoff(), 1),  # type: ignore[arg-type]  # passed on to redis-py
    )


def window_stats(item: RateLimitItem, window: tuple[int, float, int, float]) -> WindowStats:
    """``SlidingWindowCounterRateLimiter.get_window_stats``' arithmetic, on a window read.

    ``window`` is ``(previous count, previous TTL, current count, current TTL)``, TTLs
    in seconds, as ``limits``' sliding-window script returns it.
    """
    previous_count, previous_ttl, current_count, current_ttl = window
    expiry = item.get_expiry()
    weighted = previous_count * previous_ttl / expiry + current_count
    remaining = max(0, item.amount - math.floor(weighted))
    now = time.time()
    if not (previous_count or current_count):
        return WindowStats(now, remaining)
    previous_reset_in = previous_ttl % (expiry / previous_count) if previous_count else math.inf
    current_reset_in = current_ttl % expiry if current_count else math.inf
    return WindowStats(now + min(previous_reset_in, current_reset_in), remaining)


class SlidingWindowPipeline:
    """Acquire and read sliding windows in one round trip, with ``limits``' scripts."""

    def __init__(self, bridge: RedispyBridge) -> None:
        self.bridge = bridge

    @classmethod
    def for_storage(cls, storage: Storage) -> SlidingWindowPipeline | None:
        """The pipeline for ``storage``, or ``None`` if it is not a redis-py ``RedisStorage``."""
        if isinstance(storage, RedisStorage) and isinstance(storage.bridge, RedispyBridge):
            return cls(storage.bridge)
        return None

    async def hit(self, hits: Sequence[Hit]) -> list[tuple[bool, WindowStats]] | None:
        """Count each hit against its window; return whether it fitted, and the window.

        ``None`` when Redis lost ``limits``' scripts (it restarted or was flushed):
        the caller counts through ``limits``' own calls, which load them again.

        Raises:
            StorageError: Redis could not be reached (after one retry on a fresh
                connection, as the kit's other Redis calls).
        """
        acquire, read = self.bridge.lua_acquire_sliding_window, self.bridge.lua_sliding_window
        commands: list[tuple[Any, ...]] = []
        for hit in hits:
            keys = self._keys(hit)
            expiry = hit.item.get_expiry()
            commands.append(("EVALSHA", acquire.sha, 2, *keys, hit.item.amount, expiry, hit.cost))
            commands.append(("EVALSHA", read.sha, 2, *keys, expiry))
        try:
            try:
                replies = await self._send(commands)
            except (RedisConnectionError, RedisTimeoutError):
                replies = await self._send(commands)  # a stale connection: once more
        except NoScriptError:
            return None
        except RedisError as exc:
            raise StorageError(exc) from exc
        return [
            (bool(acquired), window_stats(hit.item, _window(raw)))
            for hit, acquired, raw in zip(hits, replies[::2], replies[1::2], strict=True)
        ]

    async def _send(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """Send ``commands`` in one write and read their replies, on a pooled connection.

        What a redis-py pipeline does, without its bookkeeping (a third of the cost
        of a check). A connection that failed, or whose replies were not all read,
        is closed before it goes back to the pool.
        """
        client: Redis = self.bridge.get_connection()  # type: ignore[assignment]  # redis-py's
        pool = client.connection_pool
        connection = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            await connection.send_packed_command(connection.pack_commands(commands))
            return [await connection.read_response() for _ in commands]
        except BaseException:
            await connection.disconnect()
            raise
        finally:
            await pool.release(connection)

    def _keys(self, hit: Hit) -> tuple[str, str]:
        key = hit.item.key_for(*hit.identifiers)
        # limits' key layout: both windows under one hash tag (one cluster slot).
        return self.bridge.prefixed_key(f"{{{key}}}/-1"), self.bridge.prefixed_key(f"{{{key}}}")


def _window(raw: list[Any]) -> tuple[int, float, int, float]:
    """A sliding-window script's reply: counts, and TTLs from milliseconds to seconds."""
    return (
        int(raw[0] or 0),
        max(0, float(raw[1] or 0)) / 1000,
        int(raw[2] or 0),
        max(0, float(raw[3] or 0)) / 1000,
    )
