"""The Redis client the kit's blocks share (``pip install "fastapi-kit[redis]"``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from fastapi_kit._extras import optional_extra

if TYPE_CHECKING:
    from collections.abc import Callable

    from pydantic import SecretStr
    from redis.asyncio import Redis

__all__ = ("FailureHook", "create_redis")

#: Called with the error each time a block's Redis call fails (after its retry):
#: [`Metrics.redis_failure`][fastapi_kit.metrics.Metrics.redis_failure] counts them.
FailureHook: TypeAlias = "Callable[[BaseException], object]"


def create_redis(url: str | SecretStr, **options: Any) -> Redis:
    """Create an async Redis client tuned for request paths.

    Timeouts are short (a down Redis must turn into a prompt 503 or a bypass, not
    a hung request) and a failed command is retried once at most, on a fresh
    connection: enough to get past connections that died with a Redis restart,
    not enough to stall a request on an outage. The client reconnects by itself.

    Raises:
        ImportError: The ``redis`` extra is not installed.
    """
    with optional_extra("redis"):
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
    raw = url if isinstance(url, str) else url.get_secret_value()
    settings: dict[str, Any] = {
        "socket_connect_timeout": 1.0,
        "socket_timeout": 1.0,
        "retry": Retry(NoBackoff(), 1),
        "health_check_interval": 30,
        "decode_responses": False,
        **options,
    }
    client: Redis = Redis.from_url(raw, **settings)
    return client
