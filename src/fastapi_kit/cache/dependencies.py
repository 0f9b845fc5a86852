"""``CacheDep`` and ``invalidate``: the app's cache in endpoints, and writes that invalidate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from fastapi_kit.cache.service import Cache
from fastapi_kit.context import RequestContext, lifespan_service

if TYPE_CHECKING:
    from collections.abc import Collection

__all__ = ("CacheDep", "get_cache", "invalidate")


def get_cache(request: Request) -> Cache:
    """Return the app's [`Cache`][fastapi_kit.cache.Cache] (a dependency).

    Raises:
        RuntimeError: No cache was started with the app (a 500, logged).
    """
    # The cache the request's middleware serves with, else the one the lifespan published.
    cache = RequestContext.of(request.scope).cache or lifespan_service(request.scope, Cache)
    if cache is None:
        msg = "no Cache in the lifespan state: call kit.use_cache() before kit.install(app)"
        raise RuntimeError(msg)  # a set-up error
    return cache


#: The app's cache: ``async def update(..., cache: CacheDep)``.
CacheDep = Annotated[Cache, Depends(get_cache)]


async def invalidate(request: Request, tags: Collection[str]) -> None:
    """Invalidate ``tags`` from an endpoint that changes data: now, and once more after commit.

    The second invalidation runs after the endpoint's database session committed and
    before the client gets the response, so a read racing with this write can never
    leave a stale entry behind: the client reads its own write, on every instance.
    """
    tags = list(tags)
    await get_cache(request).invalidate(tags)
    RequestContext.of(request.scope).cache_invalidations.extend(tags)
