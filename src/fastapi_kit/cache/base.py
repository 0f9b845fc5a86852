"""The cache backend protocol, and the error backends raise when they cannot answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

__all__ = ("CacheBackend", "CacheError")


class CacheError(Exception):
    """The backend could not be reached or failed; the request is served uncached."""


class CacheBackend(Protocol):
    """Where cached values live: process memory, or Redis shared by every instance.

    Values are opaque bytes with a TTL. Entries may carry tags; invalidating a tag
    removes its entries and bumps the tag's *generation*, so that a value computed
    from data older than the invalidation is never stored afterwards (see ``set``).
    Every method raises [`CacheError`][fastapi_kit.cache.CacheError] when the
    backend cannot answer.
    """

    async def get(self, key: str) -> bytes | None:
        """Return the value under ``key``, or ``None``."""
        ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Return the values under ``keys`` (``None`` where missing), in one round trip."""
        ...

    async def read(self, key: str, tags: Sequence[str]) -> tuple[bytes | None, dict[str, int]]:
        """Return the value under ``key`` and the current generation of each tag, at once."""
        ...

    async def set(
        self,
        key: str,
        value: bytes,
        ttl: float,
        tags: Collection[str] = (),
        generations: Mapping[str, int] | None = None,
    ) -> bool:
        """Store ``value`` for ``ttl`` seconds under ``key``, filed under ``tags``.

        With ``generations`` (as ``read`` returned them), the value is stored only if
        no tag was invalidated since: atomically, so a stale value never lands.

        Returns:
            Whether the value was stored.
        """
        ...

    async def delete(self, *keys: str) -> None:
        """Remove ``keys``."""
        ...

    async def invalidate(self, tags: Collection[str]) -> None:
        """Remove every entry filed under ``tags`` and bump their generations, atomically."""
        ...

    async def lock(self, name: str, ttl: float) -> str | None:
        """Take the short-lived lock ``name``; return its token, or ``None`` if taken."""
        ...

    async def unlock(self, name: str, token: str) -> None:
        """Release ``name`` if ``token`` still holds it."""
        ...

    async def clear(self) -> None:
        """Remove everything in this backend's namespace."""
        ...

    async def ping(self) -> None:
        """Raise when the backend cannot be reached."""
        ...
