"""The revocation store protocol, and the error stores raise when they cannot answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from fastapi_kit.auth.tokens import TokenClaims

__all__ = ("RevocationStoreError", "TokenRevocationStore")


class RevocationStoreError(Exception):
    """The store could not be reached; the auth policy decides what that means."""


class TokenRevocationStore(Protocol):
    """Where revocations live: in process memory, or in Redis shared by all instances.

    Entries expire by themselves once every token they concern has expired, so the
    store never grows without bound. Every method raises
    [`RevocationStoreError`][fastapi_kit.auth.RevocationStoreError] when the store
    cannot be reached.
    """

    async def revoke_token(self, token_id: str, until: float) -> None:
        """Refuse the token ``token_id`` (``jti``) from now on; forget it at ``until``."""
        ...

    async def revoke_family(self, family: str, until: float) -> None:
        """Refuse every token of ``family`` (one login, all its refreshes)."""
        ...

    async def revoke_subject(self, subject: str, before: float, until: float) -> None:
        """Refuse every token of ``subject`` issued before ``before`` (logout everywhere)."""
        ...

    async def is_revoked(self, claims: TokenClaims) -> bool:
        """Whether the token, its family or its subject was revoked: one round trip."""
        ...

    async def use_once(self, token_id: str, until: float) -> bool:
        """Atomically mark ``token_id`` used; ``False`` if it already was (refresh reuse)."""
        ...

    async def now(self) -> float:
        """The store's clock, in seconds since the epoch.

        Cut-offs (``revoke_subject``'s ``before``) and the issue times of tokens
        compared with them are both read from it, so instances whose own clocks
        drift apart still agree on which tokens a revocation covers.
        """
        ...

    async def ping(self) -> None:
        """Raise when the store cannot be reached (the readiness check)."""
        ...
