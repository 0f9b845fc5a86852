"""``Cache``: a backend, per-user keys, single-flight misses, invalidation, the lifespan."""

from __future__ import annotations

import asyncio
import hashlib
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from starlette.responses import Response

from fastapi_kit.cache.base import CacheError
from fastapi_kit.cache.decorators import cached
from fastapi_kit.cache.etag import etag_matches
from fastapi_kit.cache.flight import Flights
from fastapi_kit.cache.keys import DeclaredQuery
from fastapi_kit.cache.memory import MemoryCache
from fastapi_kit.cache.middleware import CacheMiddleware
from fastapi_kit.cache.plan import MIDDLEWARE_MISSING, VARY, CachePlan
from fastapi_kit.context import RequestContext, published

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Collection

    from fastapi import FastAPI
    from starlette.requests import Request

    from fastapi_kit.cache.base import CacheBackend

__all__ = ("Cache",)

F = TypeVar("F", bound="Callable[..., Any]")

_POLL_SECONDS = 0.02
#: Seconds entries live unless ``cached(ttl=...)`` says otherwise.
DEFAULT_TTL = 60


class Cache:
    """Response and function caching on one backend.

    For example:

    ```python
    cache = Cache(MemoryCache(), default_ttl=60)  # or RedisCache(redis)
    app = FastAPI(lifespan=cache.lifespan)
    cache.install(app)
    ```

    With ``Kit``, ``kit.use_cache()`` builds it (Redis when ``REDIS_URL`` is set) and
    installs it. Endpoints use [`cached`][fastapi_kit.cache.cached]; writes call
    [`invalidate`][fastapi_kit.cache.invalidate].

    Args:
        backend: Where entries live; a ``MemoryCache`` by default.
        default_ttl: Seconds entries live unless ``cached(ttl=...)`` says otherwise.
        principal: Who the request is for, as text, or ``None`` when anonymous; by
            default the authenticated user's id (from the auth block, or
            ``request.state.user_id`` when the app authenticates by itself).
            Private entries are keyed by it.
        lock_ttl: Seconds a cross-process computation lock lives (a crashed holder
            stops blocking others after it).
        lock_wait: Seconds a request waits for another's computation before doing
            its own.
    """

    def __init__(
        self,
        backend: CacheBackend | None = None,
        *,
        default_ttl: float = DEFAULT_TTL,
        principal: Callable[[Request], str | None] | None = None,
        lock_ttl: float = 5.0,
        lock_wait: float = 2.0,
    ) -> None:
        self.backend: CacheBackend = backend if backend is not None else MemoryCache()
        self.default_ttl = default_ttl
        self.principal = principal if principal is not None else _user_id
        self.lock_ttl = lock_ttl
        self.lock_wait = lock_wait
        #: Computations under way in this process, by key: their waiters share them.
        self.flights = Flights()
        #: Set by ``CacheMiddleware`` when the app's middleware stack is built.
        self.middleware_installed = False
        self._query_keys = DeclaredQuery()
        self._logger = structlog.get_logger("fastapi_kit.cache")

    def log_failure(self, operation: str, error: BaseException) -> None:
        """Log a backend failure: the request goes on, uncached."""
        self._logger.warning("cache_unavailable", operation=operation, error=str(error))

    # --- invalidation -------------------------------------------------------------

    async def invalidate(self, tags: Collection[str]) -> bool:
        """Remove every entry under ``tags``, now; ``False`` if the backend failed (logged)."""
        try:
            await self.backend.invalidate(list(tags))
        except CacheError as exc:
            self.log_failure("invalidate", exc)
            return False
        return True

    async def release(self, key: str, token: str) -> None:
        """Release a computation lock (failures only delay others by ``lock_ttl``)."""
        with suppress(CacheError):
            await self.backend.unlock(key, token)

    # --- endpoints ----------------------------------------------------------------

    def request_key(self, request: Request, parts: str | None, principal: str | None) -> str:
        """The entry key of a request: method, path, the query it declares, principal.

        Only the query parameters the route declares (its own and its
        dependencies') count, each with the value the endpoint receives: the last
        one when a parameter is repeated, all of them in order for list
        parameters. Parameters the route ignores never make new entries.
        """
        if parts is None:
            scope = request.scope
            query = self._query_keys.of(request)
            parts = f"{scope['method']} {scope['path']}?{query}"
        # The length prefix keeps (parts, principal) pairs from running into each other.
        text = f"{len(parts)}:{parts}|{principal or ''}"
        return f"r:{hashlib.sha256(text.encode()).hexdigest()[:40]}"

    async def serve(
        self,
        request: Request,
        call: Callable[[], Awaitable[Any]],
        *,
        ttl: float | None,
        tags: tuple[str, ...],
        key_parts: str | None,
        public: bool,
    ) -> Any:
        """Answer ``request`` from the cache, or run ``call`` and have the response stored."""
        ttl = self.default_ttl if ttl is None else ttl
        context = RequestContext.of(request.scope)
        if context.cache is None:
            raise RuntimeError(MIDDLEWARE_MISSING)
        if request.method not in ("GET", "HEAD"):
            return await call()
        principal = self.principal(request)
        if principal is None and not public:
            # Private content for an anonymous request: nobody to file it under.
            context.cache_plan = CachePlan(self, "bypass", ttl=ttl)
            return await call()
        key = self.request_key(request, key_parts, None if public else principal)
        plan = CachePlan(self, "miss", key=key, ttl=ttl, tags=tags, public=public)
        try:
            entry, plan.generations = await self.backend.read(key, tags)
            if entry is None:
                entry = await self._wait_for_others(plan)
        except CacheError as exc:
            self.log_failure("read", exc)
            entry, plan.mode, plan.generations = None, "bypass", None
            plan.finish(None)
        if entry is not None:
            plan.finish(entry)
            await plan.release()
            return self._hit(request, plan, entry)
        context.cache_plan = plan
        return await call()

    async def _wait_for_others(self, plan: CachePlan) -> bytes | None:
        """Share a computation under way, here or (with a lock) in another process."""
        entry = await self.flights.wait(plan.key, self.lock_wait)
        if entry is not None:
            return entry
        plan.lock = await self.backend.lock(plan.key, self.lock_ttl)
        if plan.lock is None:  # another process computes it: wait a little for its result
            deadline = asyncio.get_running_loop().time() + self.lock_wait
            while asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(_POLL_SECONDS)
                entry = await self.backend.get(plan.key)
                if entry is not None:
                    return entry
        plan.flight = self.flights.lead(plan.key)
        return None

    @staticmethod
    def _hit(request: Request, plan: CachePlan, entry: bytes) -> Response:
        media_type, etag, body = entry.split(b"\n", 2)
        headers = {
            "ETag": etag.decode(),
            "Cache-Control": f"{'public' if plan.public else 'private'}, max-age={round(plan.ttl)}",
            "Vary": VARY,
            "X-Cache": "HIT",
        }
        if etag_matches(request.headers.get("if-none-match"), headers["ETag"]):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=media_type.decode() or None, headers=headers)

    # --- functions ------------------------------------------------------------------

    async def memoize(
        self,
        key: str,
        compute: Callable[[], Awaitable[bytes]],
        *,
        ttl: float | None,
        tags: tuple[str, ...],
    ) -> bytes:
        """Return the bytes under ``key``, computing (once per process) on a miss."""
        ttl = self.default_ttl if ttl is None else ttl
        try:
            entry, generations = await self.backend.read(key, tags)
        except CacheError as exc:
            self.log_failure("read", exc)
            return await compute()
        if entry is not None:
            return entry
        shared = await self.flights.wait(key)
        if shared is not None:
            return shared
        own = self.flights.lead(key)
        stored: bytes | None = None
        try:
            value = await compute()
            try:
                if await self.backend.set(key, value, ttl, tags, generations):
                    stored = value
            except CacheError as exc:
                self.log_failure("store", exc)
            return value
        finally:
            self.flights.land(key, own, stored)

    def cached(
        self,
        ttl: float | None = None,
        *,
        tags: Collection[str] | Callable[..., Collection[str]] = (),
        key: Callable[[Request], str] | None = None,
        public: bool = False,
    ) -> Callable[[F], F]:
        """[`cached`][fastapi_kit.cache.cached] bound to this cache (for coroutines)."""
        return cached(ttl, tags=tags, key=key, public=public, cache=self)

    # --- wiring ---------------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, _app: object = None) -> AsyncIterator[dict[str, Cache]]:
        """Publish this cache to requests (lifespan state), for ``CacheDep``.

        Says once, at start-up, when its middleware is missing (``install``): the
        cached and conditional endpoints would answer 500.
        """
        if not self.middleware_installed:
            self._logger.warning(
                "cache_middleware_missing", detail="call cache.install(app) or kit.use_cache()"
            )
        yield published(Cache, self)

    def install(self, app: FastAPI) -> None:
        """Add the response middleware that stores misses and answers ``If-None-Match``."""
        app.add_middleware(CacheMiddleware, cache=self)


def _user_id(request: Request) -> str | None:
    return RequestContext.of(request.scope).principal_id(request.scope)
