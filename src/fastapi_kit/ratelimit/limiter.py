"""``RateLimiter``: counters in a ``limits.aio`` storage, checked with a sliding window."""

from __future__ import annotations

import math
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeAlias

import structlog
from limits import parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from fastapi_kit.context import published
from fastapi_kit.errors import ServiceUnavailable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from limits import RateLimitItem
    from limits.aio.storage import Storage
    from redis.asyncio import Redis

    from fastapi_kit._redis import FailureHook

__all__ = ("FailurePolicy", "Hit", "RateLimiter", "WindowState")

#: What a limit does when its counters cannot be reached: let the request through
#: (``"open"``, logged and counted) or refuse it with a 503 (``"closed"``).
FailurePolicy: TypeAlias = Literal["open", "closed"]

#: Leading bits of an IPv6 address that name one client (one ``/64``, RFC 6177).
DEFAULT_IPV6_PREFIX = 64
#: The app's default budget per user (per address when anonymous), unless configured.
DEFAULT_LIMITS = "300/minute"
#: The app's limits on logins and registrations, unless configured.
DEFAULT_AUTH_LIMITS = "10/minute"

#: Errors a storage raises when Redis cannot answer (limits wraps its own).
STORAGE_ERRORS: tuple[type[Exception], ...] = (StorageError, OSError)


class Hit(NamedTuple):
    """A request to count against one window."""

    #: The limit (``limits``' parsed ``RateLimitItem``).
    item: RateLimitItem
    #: Whose window: the key parts after the limit's own.
    identifiers: tuple[str, ...]
    #: How much the request uses.
    cost: int
    #: The policy's name in the ``RateLimit`` headers.
    policy: str


@dataclass(frozen=True, slots=True)
class WindowState:
    """Where one limit stands once a request was counted against it.

    Attributes:
        item: The limit (``limits``' parsed ``RateLimitItem``).
        policy: The policy's name in the ``RateLimit`` headers.
        allowed: Whether the request fitted.
        remaining: Requests left in the window after this one.
        reset_at: Epoch seconds at which the next request would fit again (for
            ``X-RateLimit-Reset`` and ``Retry-After``).
    """

    item: RateLimitItem
    policy: str
    allowed: bool
    remaining: int
    reset_at: float

    def seconds_to_reset(self, now: float | None = None) -> int:
        """Whole seconds until ``reset_at``, at least 1 (``Retry-After``)."""
        return max(1, math.ceil(self.reset_at - (time.time() if now is None else now)))


class RateLimiter:
    """Rate-limit counters and the policy for when they cannot be reached.

    For example:

    ```python
    limiter = RateLimiter()  # in process memory
    limiter = RateLimiter.from_redis(redis)  # shared by every instance
    app = FastAPI(lifespan=limiter.lifespan)
    install_rate_limiter(app, limiter)
    ```

    The limiter itself knows nothing of FastAPI: ``install_rate_limiter`` wires it
    into an app (``kit.use_rate_limit()`` does both).

    Counters use ``limits``' sliding-window counter, through its asyncio storages:
    a request fits when the current window's count plus the previous window's,
    weighted by how much of it still overlaps the last period, stays within the
    limit. It costs two small counters per key, and each check is atomic, so
    instances sharing Redis share one budget. With Redis, a check (the hits on all
    of a limit's windows and the numbers for the headers) is one round trip.

    Args:
        storage: A ``limits.aio`` storage; process memory by default.
        on_error: What limits do when the storage fails, unless they say otherwise.
        ipv6_prefix: Leading bits of an IPv6 address that name one client for
            address-keyed limits (``client_ip``): a ``/64`` by default, since one
            client usually holds a whole one.
        default_limits: The app's default limits, which ``default_limit()`` (no
            argument) applies: routers can be made before the settings are read.
        auth_limits: The app's limits on logins and registrations, which
            ``login_limit()`` and ``limit(auth_limits, ...)`` apply.
        on_failure: Called with the error each time the storage fails, whatever
            the policy: ``metrics.redis_failure("rate_limit")``.

    Raises:
        ValueError: ``ipv6_prefix`` is out of range, or a limit is not valid notation.
    """

    def __init__(
        self,
        storage: Storage | None = None,
        *,
        on_error: FailurePolicy = "open",
        ipv6_prefix: int = DEFAULT_IPV6_PREFIX,
        default_limits: str = DEFAULT_LIMITS,
        auth_limits: str = DEFAULT_AUTH_LIMITS,
        on_failure: FailureHook | None = None,
    ) -> None:
        if not 1 <= ipv6_prefix <= 128:  # the bits of an IPv6 address
            msg = "ipv6_prefix must be between 1 and 128"
            raise ValueError(msg)
        parse_many(default_limits)  # a typo fails now, not on the first request
        parse_many(auth_limits)
        #: The app's default limits (``RATE_LIMIT_DEFAULT``): ``default_limit()``.
        self.default_limits = default_limits
        #: The app's limits on logins and registrations (``RATE_LIMIT_AUTH``):
        #: ``login_limit()``, ``limit(auth_limits, ...)``.
        self.auth_limits = auth_limits
        self.storage: Storage = storage if storage is not None else MemoryStorage()
        self.strategy = SlidingWindowCounterRateLimiter(self.storage)
        self.on_error: FailurePolicy = on_error
        self.ipv6_prefix = ipv6_prefix
        #: Checks let through because the storage failed (fail-open), since start.
        self.failures = 0
        self.on_failure = on_failure
        self._pipeline = _pipeline_for(self.storage)
        #: Set by ``RateLimitHeadersMiddleware`` when the app's middleware stack is built.
        self.middleware_installed = False
        self._logger = structlog.get_logger("fastapi_kit.ratelimit")

    @classmethod
    def from_redis(
        cls,
        redis: Redis,
        *,
        key_prefix: str = "kit:rl",
        on_error: FailurePolicy = "open",
        ipv6_prefix: int = DEFAULT_IPV6_PREFIX,
        default_limits: str = DEFAULT_LIMITS,
        auth_limits: str = DEFAULT_AUTH_LIMITS,
        on_failure: FailureHook | None = None,
    ) -> RateLimiter:
        """Keep the counters in Redis, on ``redis``'s connection pool.

        Args:
            redis: An asyncio client (``create_redis`` settings: short timeouts).
            key_prefix: Prefix of every counter key.
            on_error: The default failure policy.
            ipv6_prefix: See the class.
            default_limits: See the class.
            auth_limits: See the class.
            on_failure: See the class.
        """
        from fastapi_kit.ratelimit.redis import redis_storage  # optional extra

        return cls(
            redis_storage(redis, key_prefix),
            on_error=on_error,
            ipv6_prefix=ipv6_prefix,
            default_limits=default_limits,
            auth_limits=auth_limits,
            on_failure=on_failure,
        )

    async def hit(self, hits: Sequence[Hit]) -> list[WindowState]:
        """Count each of ``hits`` against its window; with Redis, in one round trip.

        Every window counts the request if it fits there, whatever the others say.

        Raises:
            StorageError: The storage could not be reached.
            OSError: The storage's connection failed.
        """
        results = None if self._pipeline is None else await self._pipeline.hit(hits)
        if results is None:
            results = [
                (
                    await self.strategy.hit(hit.item, *hit.identifiers, cost=hit.cost),
                    await self.strategy.get_window_stats(hit.item, *hit.identifiers),
                )
                for hit in hits
            ]
        return [
            WindowState(hit.item, hit.policy, allowed, stats.remaining, stats.reset_time)
            for hit, (allowed, stats) in zip(hits, results, strict=True)
        ]

    def storage_failed(self, error: BaseException, policy: FailurePolicy | None) -> None:
        """Apply the failure policy: count and log (open), or raise a 503 (closed).

        Raises:
            ServiceUnavailable: The policy is ``"closed"``.
        """
        if self.on_failure is not None:
            self.on_failure(error)
        if (policy or self.on_error) == "closed":
            raise ServiceUnavailable("Rate limiting is unavailable; try again shortly.") from error
        self.failures += 1
        self._logger.warning("rate_limit_unavailable", error=str(error) or type(error).__name__)

    async def reset(self) -> None:
        """Forget every counter (tests, or after changing limits)."""
        await self.storage.reset()

    @asynccontextmanager
    async def lifespan(self, _app: object = None) -> AsyncIterator[dict[str, RateLimiter]]:
        """Publish this limiter to the app's lifespan state.

        Says once, at start-up, when its middleware is missing: limited routes would
        answer 500.
        """
        if not self.middleware_installed:
            self._logger.warning(
                "rate_limit_middleware_missing",
                detail="call install_rate_limiter(app, limiter) or kit.use_rate_limit()",
            )
        yield published(RateLimiter, self)


def _pipeline_for(storage: Storage) -> Any:
    """The one-round-trip Redis path for ``storage``, when it is a redis-py ``RedisStorage``."""
    try:
        from fastapi_kit.ratelimit.redis import SlidingWindowPipeline
    except ImportError:  # pragma: no cover - without the redis extra
        return None
    return SlidingWindowPipeline.for_storage(storage)
