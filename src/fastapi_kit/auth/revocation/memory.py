"""Revocations in process memory: for one instance, development and tests."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi_kit.auth.tokens import TokenClaims

__all__ = ("MemoryRevocationStore",)


class MemoryRevocationStore:
    """A [`TokenRevocationStore`][fastapi_kit.auth.TokenRevocationStore] in a dict.

    Only this process sees its revocations: with several instances, use
    [`RedisRevocationStore`][fastapi_kit.auth.revocation.redis.RedisRevocationStore]. Expired
    entries are dropped as new ones are written.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, float]] = {}  # key -> (value, expires at)
        self._next_sweep = 0.0

    def _put(self, key: str, value: float, until: float) -> None:
        now = time.time()
        if now >= self._next_sweep:
            self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
            self._next_sweep = now + 60
        self._entries[key] = (value, until)

    def _get(self, key: str) -> float | None:
        entry = self._entries.get(key)
        if entry is None or entry[1] <= time.time():
            return None
        return entry[0]

    async def revoke_token(self, token_id: str, until: float) -> None:
        """Refuse the token ``token_id`` from now on."""
        self._put(f"jti:{token_id}", 1, until)

    async def revoke_family(self, family: str, until: float) -> None:
        """Refuse every token of ``family``."""
        self._put(f"fam:{family}", 1, until)

    async def revoke_subject(self, subject: str, before: float, until: float) -> None:
        """Refuse every token of ``subject`` issued before ``before``."""
        current = self._get(f"sub:{subject}") or 0.0
        self._put(f"sub:{subject}", max(current, before), until)

    async def is_revoked(self, claims: TokenClaims) -> bool:
        """Whether the token, its family or its subject was revoked."""
        cutoff = self._get(f"sub:{claims.subject}")
        return (
            self._get(f"jti:{claims.token_id}") is not None
            or self._get(f"fam:{claims.family}") is not None
            or (cutoff is not None and claims.issued_at < cutoff)
        )

    async def use_once(self, token_id: str, until: float) -> bool:
        """Mark ``token_id`` used; ``False`` if it already was."""
        key = f"used:{token_id}"
        if self._get(key) is not None:
            return False
        self._put(key, 1, until)
        return True

    async def now(self) -> float:
        """This process's clock (the only one that reads these revocations)."""
        return time.time()

    async def ping(self) -> None:
        """Memory is always reachable."""
