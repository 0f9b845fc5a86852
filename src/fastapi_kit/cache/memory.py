"""An in-process cache: bounded, LRU-evicted, with TTLs and tags."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

__all__ = ("MemoryCache",)


class MemoryCache:
    """A [`CacheBackend`][fastapi_kit.cache.CacheBackend] in process memory.

    At most ``max_entries`` entries are kept; beyond that the least recently used go
    first. Expired entries are dropped when met. Every operation completes without
    awaiting anything, so concurrent requests on the event loop always see a
    consistent cache. Each process has its own: with several instances, use
    [`RedisCache`][fastapi_kit.cache.redis.RedisCache].

    Args:
        max_entries: The most entries kept.
    """

    def __init__(self, *, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            msg = "max_entries must be at least 1"
            raise ValueError(msg)
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[bytes, float, tuple[str, ...]]] = OrderedDict()
        self._tagged: dict[str, set[str]] = {}
        # Recently bumped generations; the oldest are forgotten beyond a bound. A
        # forgotten generation reads as 0 again, which can only refuse a store that
        # started before it was forgotten, never let a stale one through in practice.
        self._generations: OrderedDict[str, int] = OrderedDict()
        self._locks: dict[str, tuple[str, float]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def _lookup(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= time.monotonic():
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def _remove(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            for tag in entry[2]:
                keys = self._tagged.get(tag)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del self._tagged[tag]

    async def get(self, key: str) -> bytes | None:
        """Return the value under ``key``, or ``None``."""
        return self._lookup(key)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Return the values under ``keys``."""
        return [self._lookup(key) for key in keys]

    async def read(self, key: str, tags: Sequence[str]) -> tuple[bytes | None, dict[str, int]]:
        """Return the value under ``key`` and the generations of ``tags``."""
        return self._lookup(key), {tag: self._generations.get(tag, 0) for tag in tags}

    async def set(
        self,
        key: str,
        value: bytes,
        ttl: float,
        tags: Collection[str] = (),
        generations: Mapping[str, int] | None = None,
    ) -> bool:
        """Store ``value``, unless a tag was invalidated since ``generations`` were read."""
        if generations is not None and any(
            self._generations.get(tag, 0) != seen for tag, seen in generations.items()
        ):
            return False
        self._remove(key)
        self._entries[key] = (value, time.monotonic() + ttl, tuple(tags))
        for tag in tags:
            self._tagged.setdefault(tag, set()).add(key)
        while len(self._entries) > self.max_entries:
            self._remove(next(iter(self._entries)))
        return True

    async def delete(self, *keys: str) -> None:
        """Remove ``keys``."""
        for key in keys:
            self._remove(key)

    async def invalidate(self, tags: Collection[str]) -> None:
        """Remove every entry under ``tags`` and bump their generations."""
        for tag in tags:
            self._bump(tag)
            for key in list(self._tagged.get(tag, ())):
                self._remove(key)

    def _bump(self, tag: str) -> None:
        self._generations[tag] = self._generations.pop(tag, 0) + 1
        while len(self._generations) > 4 * self.max_entries:
            self._generations.popitem(last=False)

    async def lock(self, name: str, ttl: float) -> str | None:
        """Take ``name`` unless another holder's lock is still fresh."""
        now = time.monotonic()
        held = self._locks.get(name)
        if held is not None and held[1] > now:
            return None
        token = secrets.token_hex(8)
        self._locks[name] = (token, now + ttl)
        return token

    async def unlock(self, name: str, token: str) -> None:
        """Release ``name`` if ``token`` holds it."""
        held = self._locks.get(name)
        if held is not None and held[0] == token:
            del self._locks[name]

    async def clear(self) -> None:
        """Remove every entry (generations survive: in-flight writes stay refused)."""
        for tag in list(self._tagged):
            self._bump(tag)
        self._entries.clear()
        self._tagged.clear()

    async def ping(self) -> None:
        """Memory is always reachable."""
