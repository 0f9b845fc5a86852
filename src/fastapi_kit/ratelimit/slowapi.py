"""slowapi compatibility: its exception, its ``Limiter``'s configuration, its key functions.

slowapi's key functions (``get_remote_address``, ``get_ipaddr``, any
``request -> str``) are already the kit's keys: ``limit("5/minute",
key=get_remote_address)``. The kit's ``RateLimitExceeded`` is also slowapi's, so
handlers registered for ``slowapi.errors.RateLimitExceeded`` still see it. And
``from_slowapi`` builds the kit's asyncio ``RateLimiter`` from a slowapi ``Limiter``.
"""

from __future__ import annotations

import inspect
import warnings
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from limits import parse_many
from limits.aio.storage import MemoryStorage
from slowapi.errors import RateLimitExceeded as SlowapiRateLimitExceeded
from slowapi.wrappers import Limit as SlowapiLimit

from fastapi_kit.ratelimit.limiter import (
    DEFAULT_AUTH_LIMITS,
    DEFAULT_IPV6_PREFIX,
    DEFAULT_LIMITS,
    FailurePolicy,
    RateLimiter,
    WindowState,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from limits.aio.storage import Storage
    from redis.asyncio import Redis
    from slowapi import Limiter

    from fastapi_kit.ratelimit.limiter import Hit

__all__ = ("from_slowapi",)

#: slowapi's storage URIs the kit maps onto its Redis client (``redis-py`` schemes).
_REDIS_SCHEMES = {"redis": "redis", "rediss": "rediss", "redis+unix": "unix"}


class SlowapiError(SlowapiRateLimitExceeded):
    """slowapi's ``RateLimitExceeded`` as a base of the kit's, without slowapi's constructor.

    slowapi's takes one of its ``Limit`` wrappers and calls ``HTTPException``'s; the
    kit's exception is built by ``APIError``, whose constructor reaches this one
    along the MRO with the message. ``str()`` and ``repr()`` stay ``Exception``'s.
    """

    def __init__(self, *args: object) -> None:
        Exception.__init__(self, *args)

    def __str__(self) -> str:
        return Exception.__str__(self)

    def __repr__(self) -> str:
        return Exception.__repr__(self)


def slowapi_limit(window: WindowState) -> SlowapiLimit:
    """The window that refused a request, as slowapi describes it (``exc.limit``).

    ``limit`` is the window's ``RateLimitItem`` and ``scope`` its policy name; the
    key function is not the route's (the exception does not know it).
    """
    return SlowapiLimit(
        window.item,
        key_func=_unknown_key,
        scope=window.policy,
        per_method=False,
        methods=None,
        error_message=None,
        exempt_when=None,
        cost=1,
        override_defaults=False,
    )


def _unknown_key(*_: object) -> str:
    return ""


def from_slowapi(
    limiter: Limiter,
    *,
    on_error: FailurePolicy = "open",
    ipv6_prefix: int = DEFAULT_IPV6_PREFIX,
    auth_limits: str = DEFAULT_AUTH_LIMITS,
) -> RateLimiter:
    """The kit's ``RateLimiter`` for a slowapi ``Limiter``'s configuration.

    What maps:

    - ``storage_uri`` (or ``RATELIMIT_STORAGE_URL``): ``memory://`` is process
      memory; ``redis://``, ``rediss://``, ``redis+unix://`` (``async+`` too) is a
      client from ``create_redis`` (short timeouts, one retry) on the kit's Redis
      path, one round trip per check. The limiter's ``lifespan`` closes it.
    - ``default_limits`` (or ``RATELIMIT_DEFAULT``): the limiter's
      ``default_limits``, all windows joined with ``;``, which ``default_limit()``
      applies. Callables are called once, now; one that takes the ``key`` is a
      ``ValueError``. Without any, the kit's default (``300/minute``) stays.
    - ``enabled=False``: a limiter that counts nothing and refuses nothing.

    What does not:

    - ``key_func``: a limiter has no key. Give the same function to the limits:
      ``default_limit(key=get_remote_address)``, ``limit("5/minute",
      key=get_remote_address)`` (the kit's default key is ``user_or_ip``).
    - ``headers_enabled``: the kit always sends the ``X-RateLimit-*`` headers.
    - ``strategy``: the kit uses ``limits``' sliding-window counter.
    - ``key_prefix``, ``storage_options``: counters start afresh under ``kit:rl``.
    - ``swallow_errors``, ``in_memory_fallback``: the failure policy is ``on_error``.
    - ``application_limits``: a warning; use ``limit(..., scope="global")`` on the app.

    Args:
        limiter: The slowapi ``Limiter``; it is only read.
        on_error: See ``RateLimiter``.
        ipv6_prefix: See ``RateLimiter``.
        auth_limits: See ``RateLimiter`` (slowapi has no such setting).

    Raises:
        ValueError: The storage is neither memory nor Redis, or a default limit
            depends on the key.
        ImportError: A Redis storage without the ``redis`` extra.
    """
    config: Any = limiter  # slowapi keeps its configuration in private attributes
    if config._application_limits:
        warnings.warn(
            "from_slowapi: application_limits are not mapped; use "
            'Depends(limit(..., key=..., scope="global")) on the app',
            stacklevel=2,
        )
    defaults = _default_limits(config._default_limits) or DEFAULT_LIMITS
    options: dict[str, Any] = {
        "on_error": on_error,
        "ipv6_prefix": ipv6_prefix,
        "default_limits": defaults,
        "auth_limits": auth_limits,
    }
    if not config.enabled:
        return _DisabledLimiter(**options)
    uri: str = config._storage_uri or config.get_app_config("RATELIMIT_STORAGE_URL", "memory://")
    scheme, _, rest = uri.removeprefix("async+").partition("://")
    if scheme == "memory":
        return RateLimiter(MemoryStorage(), **options)
    if scheme in _REDIS_SCHEMES:
        from fastapi_kit._redis import create_redis  # the redis extra
        from fastapi_kit.ratelimit.redis import redis_storage

        redis = create_redis(f"{_REDIS_SCHEMES[scheme]}://{rest}")
        return _OwnRedisLimiter(redis, redis_storage(redis), **options)
    msg = (
        f"from_slowapi: no asyncio counterpart for storage {scheme}://; "
        "pass a limits.aio storage to RateLimiter(storage=...)"
    )
    raise ValueError(msg)


def _default_limits(groups: Sequence[Any]) -> str:
    """The default ``LimitGroup``s as one ``limits`` text, shortest window first."""
    texts: list[str] = []
    for group in groups:
        provider = group._LimitGroup__limit_provider
        if callable(provider) and "key" in inspect.signature(provider).parameters:
            msg = "from_slowapi: a default limit that depends on the key has no equivalent"
            raise ValueError(msg)
        texts.extend(str(limit.limit) for limit in group)
    if not texts:
        return ""
    items = sorted(parse_many(";".join(texts)), key=lambda i: (i.get_expiry(), i.amount))
    return ";".join(str(item) for item in items)


class _OwnRedisLimiter(RateLimiter):
    """A limiter on a Redis client of its own, closed when its lifespan ends."""

    def __init__(self, redis: Redis, storage: Storage, **options: Any) -> None:
        super().__init__(storage, **options)
        self.redis = redis

    @asynccontextmanager
    async def lifespan(self, _app: object = None) -> AsyncIterator[dict[str, RateLimiter]]:
        """Publish this limiter; close its Redis client at shutdown."""
        try:
            async with super().lifespan(_app) as state:
                yield state
        finally:
            await self.redis.aclose()


class _DisabledLimiter(RateLimiter):
    """slowapi's ``enabled=False``: nothing is counted, nothing refused, no headers."""

    async def hit(self, hits: Sequence[Hit]) -> list[WindowState]:
        """Count nothing."""
        del hits
        return []
