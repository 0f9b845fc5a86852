"""Strategies: what a token means, how it is issued, and how it dies.

A strategy turns a credential (whatever transport carried it) into the claims of
a session, issues the credentials of a login and revokes them. The kit's is
[`JWTStrategy`][fastapi_kit.auth.JWTStrategy]: short-lived access JWTs, rotating
refresh tokens with reuse detection, and revocation shared by every instance.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Protocol

import structlog

from fastapi_kit.auth.revocation import RevocationStoreError
from fastapi_kit.auth.tokens import TokenService
from fastapi_kit.errors import InvalidToken, ServiceUnavailable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Collection

    from fastapi_kit.auth.config import AuthConfig
    from fastapi_kit.auth.revocation import TokenRevocationStore
    from fastapi_kit.auth.tokens import TokenClaims, TokenPair, TokenType

__all__ = ("JWTStrategy", "Strategy")


class Strategy(Protocol):
    """What a credential means: the claims of a session, issued and revoked."""

    async def read_token(self, token: str) -> TokenClaims:
        """The claims of a valid, unrevoked access credential.

        Raises:
            InvalidToken: The credential is invalid, expired or revoked (401).
            ServiceUnavailable: The strategy cannot tell (503).
        """
        ...

    def write_token(
        self, subject: str, roles: Collection[str], *, as_of: float, family: str | None = None
    ) -> TokenPair:
        """Issue the credentials of a login (or of a refresh in ``family``)."""
        ...

    async def destroy_token(self, claims: TokenClaims) -> None:
        """End the session ``claims`` belongs to."""
        ...

    async def destroy_user_tokens(self, subject: str) -> None:
        """End every session of ``subject`` issued until now."""
        ...


class JWTStrategy:
    """Access and refresh JWTs, with rotation and revocation in a shared store.

    Args:
        config: Keys, lifetimes, leeway and the revocation policy.
        revocation: Where revocations and used refresh tokens are recorded.
    """

    def __init__(self, config: AuthConfig, revocation: TokenRevocationStore) -> None:
        self.config = config
        self.tokens = TokenService(config)
        self.revocation = revocation
        self._logger = structlog.get_logger("fastapi_kit.auth")

    async def read_token(self, token: str, expected: TokenType = "access") -> TokenClaims:
        """Decode ``token`` (of type ``expected``) and check it is not revoked.

        Under ``fail_open``, a revocation store that cannot be reached lets the
        token through (logged); under ``fail_closed`` it is a 503.

        Raises:
            InvalidToken: Invalid, expired, of another type, or revoked.
            ServiceUnavailable: The store is down and the policy is ``fail_closed``.
        """
        claims = self.tokens.decode(token, expected)
        try:
            revoked = await self.revocation.is_revoked(claims)
        except RevocationStoreError as exc:
            self._store_failed(exc)
            return claims
        if revoked:
            raise InvalidToken("Token revoked.")
        return claims

    async def now(self) -> float:
        """The revocation store's clock: take it before reading a user to issue tokens.

        Revocation cut-offs come from the same clock, so instances whose clocks
        drift apart agree on which tokens a revocation covers. When the store
        cannot be reached: 503 under ``fail_closed``, this process's clock (logged)
        under ``fail_open``.

        Raises:
            ServiceUnavailable: The store is down and the policy is ``fail_closed``.
        """
        try:
            return await self.revocation.now()
        except RevocationStoreError as exc:
            self._store_failed(exc)
            return time.time()

    def _store_failed(self, error: RevocationStoreError) -> None:
        """Log the store's failure; under ``fail_closed``, answer 503 instead of going on."""
        self._logger.warning("revocation_store_unavailable", error=str(error))
        if self.config.revocation_policy == "fail_closed":
            raise _unavailable() from error

    def write_token(
        self, subject: str, roles: Collection[str], *, as_of: float, family: str | None = None
    ) -> TokenPair:
        """Issue an access/refresh pair (a new family unless ``family`` is given).

        Args:
            subject: The user id.
            roles: The user's roles, as read from storage.
            as_of: ``await strategy.now()``, taken before the user was read: the
                tokens' ``iat``. A change to the user that revokes it afterwards
                covers these tokens too, however late they are issued.
            family: The family of a refresh (rotation), or ``None`` for a login.
        """
        return self.tokens.issue_pair(subject, roles, family=family, as_of=as_of)

    async def use_refresh_token(self, claims: TokenClaims) -> None:
        """Mark a refresh token used; a second use revokes its whole family.

        Of concurrent uses of one token, exactly one passes.

        Raises:
            InvalidToken: The token was used before (its family is now revoked).
            ServiceUnavailable: The revocation store cannot be reached.
        """
        try:
            first_use = await self.revocation.use_once(claims.token_id, claims.expires_at)
            if not first_use:
                await self.revocation.revoke_family(claims.family, self._family_expiry())
        except RevocationStoreError as exc:
            raise _unavailable() from exc
        if not first_use:
            self._logger.warning("refresh_token_reused", family=claims.family)
            raise InvalidToken("Refresh token already used: the session was revoked.")

    async def destroy_token(self, claims: TokenClaims) -> None:
        """Revoke the token and its whole family (its refresh tokens included)."""
        try:
            await self.revocation.revoke_token(
                claims.token_id, claims.expires_at + self.config.leeway
            )
            await self.revocation.revoke_family(claims.family, self._family_expiry())
        except RevocationStoreError as exc:
            raise _unavailable() from exc

    async def destroy_user_tokens(self, subject: str) -> None:
        """Revoke every token of ``subject`` issued until now (logout everywhere).

        For a change to the user (roles, deactivation, a new password), use
        [`revoking_user`][fastapi_kit.auth.JWTStrategy.revoking_user] instead: a
        revocation made before the change commits misses the logins that read the
        user before the commit and issue their tokens after the revocation.
        """
        try:
            cutoff = await self.revocation.now()
            await self.revocation.revoke_subject(subject, cutoff, self._family_expiry())
        except RevocationStoreError as exc:
            raise _unavailable() from exc

    @asynccontextmanager
    async def revoking_user(self, subject: str) -> AsyncIterator[None]:
        """End every session of ``subject`` around a change to the user; commit inside.

        Revokes before the block (so a revocation store that is down stops the
        change with a 503 before anything is written) and again after it, once
        the change is committed: a login or refresh that read the user before the
        commit has an older ``iat`` than that second cut-off, so its tokens are
        refused whenever they were issued. If the second revocation fails, the
        change stays committed, the failure is logged and the request gets a 503:
        only the tokens of a login racing the change survive it, until they
        expire (a refresh re-reads the user, so they are never renewed).

        Raises:
            ServiceUnavailable: The revocation store cannot be reached.
        """
        await self.destroy_user_tokens(subject)
        yield
        try:
            # Shielded: a request cancelled after its commit still ends the sessions.
            await asyncio.shield(self.destroy_user_tokens(subject))
        except ServiceUnavailable:
            self._logger.error("user_revocation_after_change_failed", subject=subject)
            raise

    def _family_expiry(self) -> float:
        return time.time() + self.config.refresh_ttl + self.config.leeway


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable("Token revocation is unavailable; try again shortly.")
