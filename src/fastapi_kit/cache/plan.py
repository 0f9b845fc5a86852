"""``CachePlan``: what the cache middleware does with one request's response."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from fastapi_kit.cache.base import CacheError

if TYPE_CHECKING:
    import asyncio

    from fastapi_kit.cache.service import Cache

__all__ = ("MIDDLEWARE_MISSING", "VARY", "CachePlan")

#: Cached responses differ by credentials.
VARY = "Authorization, Cookie"
#: What a cached or conditional endpoint says when no cache middleware saw its request.
MIDDLEWARE_MISSING = (
    "cached and conditional endpoints need the cache middleware: kit.use_cache() "
    "or cache.install(app)"
)


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
        if self.flight is not None:
            self.cache.flights.land(self.key, self.flight, entry)

    async def release(self) -> None:
        """Release the cross-process lock, if this request holds it."""
        if self.lock is not None:
            token, self.lock = self.lock, None
            await self.cache.release(self.key, token)
