"""``Cache``: a backend, per-user keys, single-flight misses, invalidation, the lifespan."""

from __future__ import annotations

import asyncio
import hashlib
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import structlog
from starlette.responses import Response

from fastapi_kit._asgi import USER_ID_STATE_KEY, scope_state
from fastapi_kit.cache.base import CacheError
from fastapi_kit.cache.etag import etag_matches
from fastapi_kit.cache.keys import DeclaredQuery
from fastapi_kit.cache.memory import MemoryCache

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Collection

    from fastapi import FastAPI
    from starlette.requests import Request

    from fastapi_kit.cache.base import CacheBackend

__all__ = ("CACHE_STATE_KEY", "Cache", "CachePlan")

F = TypeVar("F", bound="Callable[..., Any]")

#: Key of the [`Cache`][fastapi_kit.cache.Cache] in the lifespan state (``request.state``).
CACHE_STATE_KEY = "fastapi_kit.cache"
#: Key under ``request.state`` of the current request's caching plan.
PLAN_STATE_KEY = "fastapi_kit.cache_plan"
#: Key under ``request.state`` of tags to invalidate again once the response is ready.
PENDING_STATE_KEY = "fastapi_kit.cache_pending"
#: Set in ``request.state`` by the response middleware: it will see the plan through.
MIDDLEWARE_STATE_KEY = "fastapi_kit.cache_middleware"
_VARY = "Authorization, Cookie"
_POLL_SECONDS = 0.02


@dataclass(eq=False)
class CachePlan:
    """What the response middleware must do with the response of one request.

    Attributes:
        cache: The cache.
        mode: ``miss`` (store it), ``bypass`` (the backend failed, or nothing may be
            shared: just label it) or ``etag`` (answer ``If-None-Match`` only).
        key: The full cache key.
        ttl: Seconds the entry lives.
        tags: Tags of the entry.
        public: Shared between users (``Cache-Control: public``).
        generations: Tag generations read before computing (for a safe store).
        lock: The cross-process lock token, to release.
        flight: Resolved with the stored entry, for requests waiting on this one.
    """

    cache: Cache
    mode: Literal["miss", "bypass", "etag"]
    key: str = ""
    ttl: float = 0
    tags: tuple[str, ...] = ()
    public: bool = False
    generations: dict[str, int] | None = None
    lock: str | None = None
    flight: asyncio.Future[bytes | None] | None = field(default=None, repr=False)

    def cache_headers(self) -> list[tuple[bytes, bytes]]:
        """``Cache-Control`` and the ``X-Cache`` label (``miss`` and ``bypass`` plans)."""
        scope = "public" if self.public else "private"
        label = b"MISS" if self.mode == "miss" else b"BYPASS"
        return [
            (b"cache-control", f"{scope}, max-age={round(self.ttl)}".encode()),
            (b"x-cache", label),
        ]

    async def store(self, media_type: bytes, body: bytes, etag: str) -> bool:
        """Store the computed response; ``False`` when the backend failed.

        A store refused because a tag was invalidated meanwhile is not a failure:
        the response is served, just not kept.
        """
        entry = media_type + b"\n" + etag.encode() + b"\n" + body
        stored = False
        try:
            stored = await self.cache.backend.set(
                self.key, entry, self.ttl, self.tags, self.generations
            )
        except CacheError as exc:
            self.cache.log_failure("store", exc)
            return False
        finally:
            self.finish(entry if stored else None)
        return True

    def finish(self, entry: bytes | None) -> None:
        """Wake the requests of this process waiting on this computation."""
        if self.flight is not None and not self.flight.done():
            self.flight.set_result(entry)
            self.cache.flights.pop(self.key, None)

    async def release(self) -> None:
        """Release the cross-process lock, if this request holds it."""
        if self.lock is not None:
            token, self.lock = self.lock, None
            await self.cache.release(self.key, token)


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
            default the authenticated user's id (``request.state.user_id``, set by
            the auth block). Private entries are keyed by it.
        lock_ttl: Seconds a cross-process computation lock lives (a crashed holder
            stops blocking others after it).
        lock_wait: Seconds a request waits for another's computation before doing
            its own.
    """

    def __init__(
        self,
        backend: CacheBackend | None = None,
        *,
        default_ttl: float = 60,
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
        self.flights: dict[str, asyncio.Future[bytes | None]] = {}
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
        state = scope_state(request.scope)
        if MIDDLEWARE_STATE_KEY not in state:
            msg = (
                "cached endpoints need the cache middleware: kit.use_cache() or cache.install(app)"
            )
            raise RuntimeError(msg)
        if request.method not in ("GET", "HEAD"):
            return await call()
        principal = self.principal(request)
        if principal is None and not public:
            # Private content for an anonymous request: nobody to file it under.
            state[PLAN_STATE_KEY] = CachePlan(self, "bypass", ttl=ttl)
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
        state[PLAN_STATE_KEY] = plan
        return await call()

    async def _wait_for_others(self, plan: CachePlan) -> bytes | None:
        """Share a computation under way, here or (with a lock) in another process."""
        flight = self.flights.get(plan.key)
        if flight is not None:
            with suppress(TimeoutError):
                return await asyncio.wait_for(asyncio.shield(flight), self.lock_wait)
        plan.lock = await self.backend.lock(plan.key, self.lock_ttl)
        if plan.lock is None:  # another process computes it: wait a little for its result
            deadline = asyncio.get_running_loop().time() + self.lock_wait
            while asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(_POLL_SECONDS)
                entry = await self.backend.get(plan.key)
                if entry is not None:
                    return entry
        plan.flight = asyncio.get_running_loop().create_future()
        self.flights[plan.key] = plan.flight
        return None

    @staticmethod
    def _hit(request: Request, plan: CachePlan, entry: bytes) -> Response:
        media_type, etag, body = entry.split(b"\n", 2)
        headers = {
            "ETag": etag.decode(),
            "Cache-Control": f"{'public' if plan.public else 'private'}, max-age={round(plan.ttl)}",
            "Vary": _VARY,
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
        flight = self.flights.get(key)
        if flight is not None:
            shared = await asyncio.shield(flight)
            if shared is not None:
                return shared
        own = self.flights[key] = asyncio.get_running_loop().create_future()
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
            own.set_result(stored)
            self.flights.pop(key, None)

    def cached(
        self,
        ttl: float | None = None,
        *,
        tags: Collection[str] | Callable[..., Collection[str]] = (),
        key: Callable[[Request], str] | None = None,
        public: bool = False,
    ) -> Callable[[F], F]:
        """[`cached`][fastapi_kit.cache.cached] bound to this cache (for coroutines)."""
        from fastapi_kit.cache.decorators import cached  # cycle

        return cached(ttl, tags=tags, key=key, public=public, cache=self)

    # --- wiring ---------------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, _app: object = None) -> AsyncIterator[dict[str, Cache]]:
        """Publish this cache to requests (lifespan state)."""
        yield {CACHE_STATE_KEY: self}

    def install(self, app: FastAPI) -> None:
        """Add the response middleware that stores misses and answers ``If-None-Match``."""
        from fastapi_kit.cache.middleware import CacheMiddleware  # cycle

        app.add_middleware(CacheMiddleware)


def _user_id(request: Request) -> str | None:
    user_id = scope_state(request.scope).get(USER_ID_STATE_KEY)
    return None if user_id is None else str(user_id)
