"""An in-process cache: bounded, LRU-evicted, with TTLs and tags."""

from __future__ import annotations

import heapq
import secrets
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence

__all__ = ("MemoryCache",)

#: The most bytes of keys and values the in-process cache keeps, unless configured.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class MemoryCache:
    """A [`CacheBackend`][fastapi_kit.cache.CacheBackend] in process memory.

    Bounded twice: at most ``max_entries`` entries and ``max_bytes`` of keys and
    values (plus a fixed allowance per entry for its bookkeeping); beyond either,
    the least recently used go first, and a value larger than the whole budget is
    not stored. Expired entries are dropped by every operation, whichever key it
    concerns, oldest expiry first, so memory is given back without the entries
    being read again. Every operation completes without awaiting anything, so
    concurrent requests on the event loop always see a consistent cache. Each
    process has its own: with several instances, use
    [`RedisCache`][fastapi_kit.cache.redis.RedisCache].

    Args:
        max_entries: The most entries kept.
        max_bytes: The most bytes of keys and values kept, with
            ``ENTRY_OVERHEAD`` bytes counted per entry.
        clock: Seconds, monotonic (``time.monotonic``); tests pass their own.
    """

    #: Bytes counted per entry beyond its key and value: the dict slots, the tuple
    #: and the expiry schedule it takes (an estimate of CPython's cost).
    ENTRY_OVERHEAD = 200

    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            msg = "max_entries must be at least 1"
            raise ValueError(msg)
        if max_bytes < 1:
            msg = "max_bytes must be at least 1"
            raise ValueError(msg)
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[str, tuple[bytes, float, tuple[str, ...]]] = OrderedDict()
        self._bytes = 0
        # (expires at, key) of every stored entry, soonest first. An entry replaced
        # or removed leaves its old item behind; those are skipped when met, and
        # the heap is rebuilt when they outnumber the live ones.
        self._expiries: list[tuple[float, str]] = []
        self._tagged: dict[str, set[str]] = {}
        # Recently bumped generations; the oldest are forgotten beyond a bound. A
        # forgotten generation reads as 0 again, which can only refuse a store that
        # started before it was forgotten, never let a stale one through in practice.
        self._generations: OrderedDict[str, int] = OrderedDict()
        self._locks: dict[str, tuple[str, float]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """Bytes counted against ``max_bytes`` now."""
        return self._bytes

    def _cost(self, key: str, value: bytes) -> int:
        return len(key) + len(value) + self.ENTRY_OVERHEAD

    def _expire(self) -> None:
        """Drop every entry whose time has come (cheap when none has)."""
        now = self._clock()
        expiries = self._expiries
        while expiries and expiries[0][0] <= now:
            expires_at, key = heapq.heappop(expiries)
            entry = self._entries.get(key)
            if entry is not None and entry[1] == expires_at:
                self._remove(key)
        if len(expiries) > 2 * len(self._entries) + 64:
            self._expiries = [(entry[1], key) for key, entry in self._entries.items()]
            heapq.heapify(self._expiries)

    def _lookup(self, key: str) -> bytes | None:
        self._expire()
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def _remove(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= self._cost(key, entry[0])
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
        self._expire()
        self._remove(key)
        cost = self._cost(key, value)
        if cost > self.max_bytes:
            return False  # it would push out everything else, and still not fit
        expires_at = self._clock() + ttl
        self._entries[key] = (value, expires_at, tuple(tags))
        self._bytes += cost
        heapq.heappush(self._expiries, (expires_at, key))
        for tag in tags:
            self._tagged.setdefault(tag, set()).add(key)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
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
        now = self._clock()
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
        self._expiries.clear()
        self._bytes = 0
        self._tagged.clear()

    async def ping(self) -> None:
        """Memory is always reachable."""
