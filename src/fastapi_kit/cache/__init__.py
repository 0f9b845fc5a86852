"""Caching: per-user safe endpoint caching, function memoisation, tags, ETags.

For example:

```python
from fastapi_kit.cache import cached, invalidate


@app.get("/todos")
@cached(ttl=60, tags=["todos:{user_id}"])
async def list_todos(user: CurrentUser, session: DbSession) -> list[TodoOut]: ...


@app.post("/todos")
async def create(request: Request, user: CurrentUser, ...) -> TodoOut:
    ...
    await invalidate(request, [f"todos:{user.id}"])
```
"""

from __future__ import annotations

from fastapi_kit._lazy import lazy_exports
from fastapi_kit.cache.base import CacheBackend, CacheError
from fastapi_kit.cache.decorators import cached, conditional
from fastapi_kit.cache.dependencies import CacheDep, get_cache, invalidate
from fastapi_kit.cache.etag import etag_for, etag_matches
from fastapi_kit.cache.memory import MemoryCache
from fastapi_kit.cache.middleware import CacheMiddleware
from fastapi_kit.cache.service import Cache

__all__ = (
    "Cache",
    "CacheBackend",
    "CacheDep",
    "CacheError",
    "CacheMiddleware",
    "MemoryCache",
    "RedisCache",
    "cached",
    "conditional",
    "etag_for",
    "etag_matches",
    "get_cache",
    "invalidate",
)


# RedisCache needs an optional extra: imported on first use only.
__getattr__ = lazy_exports(__name__, {"RedisCache": "fastapi_kit.cache.redis"})
