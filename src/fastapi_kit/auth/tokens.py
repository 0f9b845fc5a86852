"""Access and refresh tokens (JWT, via PyJWT): issued with every claim, checked strictly."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import jwt

from fastapi_kit.errors import InvalidToken

if TYPE_CHECKING:
    from collections.abc import Collection

    from fastapi_kit.auth.config import AuthConfig

__all__ = ("REQUIRED_CLAIMS", "TokenClaims", "TokenPair", "TokenService", "TokenType")

TokenType = Literal["access", "refresh"]
#: Every claim the kit relies on; a token missing one is refused.
#: Claims every token the kit signs carries, whatever its kind.
KIT_CLAIMS = ("sub", "exp", "iat", "nbf", "jti", "type", "iss", "aud")
REQUIRED_CLAIMS = (*KIT_CLAIMS, "fam")


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """The checked claims of a token.

    Attributes:
        subject: ``sub``: the user id, as text.
        token_id: ``jti``: unique per token (what revoking one token records).
        family: ``fam``: shared by every token of one login, across refreshes.
        type: ``type``: ``access`` or ``refresh``.
        roles: ``roles``: the user's roles when the token was issued.
        issued_at: ``iat``, seconds since the epoch (a float: when the user was read).
        expires_at: ``exp``, seconds since the epoch.
    """

    subject: str
    token_id: str
    family: str
    type: TokenType
    roles: frozenset[str]
    issued_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class TokenPair:
    """An access token and the refresh token of the same family."""

    access_token: str
    refresh_token: str
    access: TokenClaims
    refresh: TokenClaims

    @property
    def expires_in(self) -> int:
        """Seconds the access token is valid for."""
        return round(self.access.expires_at - self.access.issued_at)


class TokenService:
    """Issues and checks the kit's JWTs.

    Decoding never trusts the token's header: the key is chosen by ``kid`` among the
    configured keys only, its one algorithm is the only one accepted (so ``alg:
    none`` and algorithm swaps fail), any ``crit`` header is refused, every claim of
    ``REQUIRED_CLAIMS`` must be present,
    ``iss`` and ``aud`` must match, times are checked with the configured leeway,
    and the ``type`` must be the one expected. Every failure is the same
    [`InvalidToken`][fastapi_kit.errors.InvalidToken].

    Args:
        config: Keys, issuer, audience, lifetimes and leeway.
    """

    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self._signing = config.signing_key
        self._signing_secret = self._signing.secret
        self._keys: dict[str | None, tuple[Any, str]] = {
            key.kid: (key.verification_key(), key.algorithm)
            for key in (config.signing_key, *config.verification_keys)
        }
        # With one key (the usual case) the header need not be read before the
        # signature is checked: it is checked after, from the verified token.
        self._only_key = next(iter(self._keys.items())) if len(self._keys) == 1 else None

    def issue_pair(
        self,
        subject: str,
        roles: Collection[str] = (),
        *,
        family: str | None = None,
        as_of: float | None = None,
    ) -> TokenPair:
        """Issue an access token and a refresh token for ``subject``.

        Args:
            subject: The user id.
            roles: The user's roles, written into both tokens.
            family: Continue this family (a refresh); a new one when ``None`` (a login).
            as_of: When ``roles`` (and the user's status) were read, in seconds since
                the epoch; the tokens' ``iat``, so that revoking the user at any later
                moment covers them. Now when ``None``.
        """
        now = time.time() if as_of is None else as_of
        family = family or secrets.token_hex(16)
        access, access_claims = self._issue("access", subject, roles, family, now)
        refresh, refresh_claims = self._issue("refresh", subject, roles, family, now)
        return TokenPair(access, refresh, access_claims, refresh_claims)

    def _issue(
        self, kind: TokenType, subject: str, roles: Collection[str], family: str, now: float
    ) -> tuple[str, TokenClaims]:
        ttl = self.config.access_ttl if kind == "access" else self.config.refresh_ttl
        claims = TokenClaims(
            subject=subject,
            token_id=secrets.token_hex(16),
            family=family,
            type=kind,
            roles=frozenset(roles),
            issued_at=now,
            expires_at=now + ttl,
        )
        payload = {
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": claims.expires_at,
            "jti": claims.token_id,
            "type": kind,
            "fam": family,
            "iss": self.config.issuer,
            "aud": self.config.audience,
            "roles": sorted(claims.roles),
        }
        return self.sign(payload), claims

    def sign(self, payload: dict[str, Any]) -> str:
        """Sign ``payload`` with the signing key (its ``kid`` in the header, if any).

        For the kit's other token kinds
        ([`PurposeTokens`][fastapi_kit.auth.PurposeTokens]); the caller writes every
        claim, ``type`` included, so that no kind is mistaken for another.
        """
        headers = {"kid": self._signing.kid} if self._signing.kid else None
        secret: Any = self._signing_secret
        return jwt.encode(payload, secret, algorithm=self._signing.algorithm, headers=headers)

    def decode(self, token: str, expected: TokenType) -> TokenClaims:
        """Check ``token`` and return its claims.

        Raises:
            InvalidToken: For any failure (detail ``Token expired`` when it only expired).
        """
        return self._claims(self.verify(token, REQUIRED_CLAIMS), expected)

    def verify(self, token: str, required: Collection[str]) -> dict[str, Any]:
        """Check ``token``'s key, signature, times, ``iss`` and ``aud``; return its payload.

        Args:
            token: The JWT.
            required: Claims it must carry besides ``KIT_CLAIMS`` (``sub``, ``exp``,
                ``iat``, ``nbf``, ``jti``, ``type``, ``iss``, ``aud``), which every
                token of the kit carries.

        Raises:
            InvalidToken: For any failure (detail ``Token expired`` when it only expired).
        """
        if len(token) > self.config.max_token_bytes:
            raise InvalidToken("Invalid token.")
        try:
            if self._only_key is None:
                kid = jwt.get_unverified_header(token).get("kid")
                key = self._keys.get(kid)
            else:
                kid, key = self._only_key
            if key is None:
                raise InvalidToken("Invalid token.")
            verification_key, algorithm = key
            verified = jwt.decode_complete(
                token,
                verification_key,
                algorithms=[algorithm],
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway,
                options={
                    "require": sorted({*KIT_CLAIMS, *required}),
                    "strict_aud": True,
                },
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("Token expired.") from None
        except jwt.PyJWTError:
            raise InvalidToken("Invalid token.") from None
        header = verified["header"]
        # No extensions are understood, so none may be required; and a token must
        # name the key that verified it (or none, when keys have no ids).
        if "crit" in header or header.get("kid") != kid:
            raise InvalidToken("Invalid token.")
        payload: dict[str, Any] = verified["payload"]
        return payload

    @staticmethod
    def _claims(payload: dict[str, Any], expected: TokenType) -> TokenClaims:
        roles = payload.get("roles", [])
        values = (payload["sub"], payload["jti"], payload["fam"])
        if (
            payload["type"] != expected
            or not all(isinstance(value, str) and value for value in values)
            or not isinstance(roles, list)
            or not all(isinstance(role, str) for role in roles)
            or not isinstance(payload["iat"], int | float)
        ):
            raise InvalidToken("Invalid token.")
        return TokenClaims(
            subject=payload["sub"],
            token_id=payload["jti"],
            family=payload["fam"],
            type=expected,
            roles=frozenset(roles),
            issued_at=float(payload["iat"]),
            expires_at=float(payload["exp"]),
        )
