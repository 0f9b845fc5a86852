"""Single-purpose tokens: the links of email verification and password reset.

A purpose token is a JWT signed like the session tokens, whose ``type`` is its
purpose (``verify`` or ``reset``), so it is never accepted as an access or refresh
token, nor as a token of the other purpose. It is short-lived, single-use (its
``jti`` is marked used in the revocation store, atomically), and bound to the
account's state by an ``fgp`` claim: an HMAC of a fingerprint the app chooses (the
password hash for a reset, the verification state for a verification). Once that
state changes, every outstanding token of the purpose dies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import TYPE_CHECKING, Final, Literal, get_args

import structlog

from fastapi_kit.auth.revocation.base import RevocationStoreError
from fastapi_kit.errors import BadToken, InvalidToken, ServiceUnavailable

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from fastapi_kit.auth.revocation.base import TokenRevocationStore
    from fastapi_kit.auth.tokens import TokenService

__all__ = ("Purpose", "PurposeTokens")

#: What a purpose token is for: its ``type`` claim.
Purpose = Literal["verify", "reset"]
_PURPOSES: Final = frozenset(get_args(Purpose))
#: Every claim a purpose token must carry.
#: What a purpose token carries beside the claims of every kit token.
_REQUIRED_CLAIMS: Final = ("fgp",)
# Labels the fingerprint key apart from the signing key it is derived from.
_FINGERPRINT_LABEL: Final = b"fastapi-kit/purpose-token/fingerprint/v1"
# One detail for every refusal: the answer tells nobody why.
_DETAIL: Final = "The link is invalid, expired or already used."


class PurposeTokens:
    """Issues and consumes single-purpose, short-lived, single-use tokens.

    ``issue`` signs a token for ``subject`` that carries an HMAC of ``fingerprint``;
    ``consume`` checks it, recomputes that HMAC from the account's *current*
    fingerprint and marks the token used. Every refusal (malformed, tampered with,
    expired, another purpose or an access/refresh token, already used, fingerprint
    changed, unknown user) is the same
    [`BadToken`][fastapi_kit.errors.BadToken] (400 ``bad_token``). Tokens are never
    logged. [`Auth`][fastapi_kit.auth.Auth] makes one as ``auth.purpose_tokens``.

    Choose the fingerprint so that using the token changes it: the password hash
    for ``reset`` (a new password kills every other reset link), the verification
    state for ``verify`` (``"unverified:" + email``: verifying, or changing the
    address, kills the link). Check what the request carries besides the token (a
    new password's policy) *before* ``consume``, which uses the token up.

    Args:
        tokens: The app's token service: its signing key, issuer and audience. The
            fingerprint key is derived from the signing key.
        revocation: Where used tokens are recorded (shared by every instance when
            it is Redis).
    """

    def __init__(self, tokens: TokenService, revocation: TokenRevocationStore) -> None:
        self._tokens = tokens
        self._config = tokens.config
        self._revocation = revocation
        self._fingerprint_key = hmac.new(
            self._config.signing_key.secret, _FINGERPRINT_LABEL, hashlib.sha256
        ).digest()
        self._logger = structlog.get_logger("fastapi_kit.auth")

    def issue(
        self,
        subject: str,
        purpose: Purpose,
        *,
        fingerprint: str,
        ttl: int,
        as_of: float | None = None,
    ) -> str:
        """Sign a token for ``subject`` and ``purpose``.

        Args:
            subject: The user id.
            purpose: ``verify`` or ``reset``.
            fingerprint: The account's current state for this purpose (see the class);
                only its HMAC is written, so the token reveals nothing of it.
            ttl: Lifetime in seconds (an hour is usual for a reset, a day for a
                verification).
            as_of: The issue time, in seconds since the epoch; now when ``None``.

        Raises:
            ValueError: An unknown purpose, or a lifetime that is not positive.
        """
        self._check_purpose(purpose)
        if ttl <= 0:
            msg = "a purpose token's ttl must be positive"
            raise ValueError(msg)
        now = time.time() if as_of is None else as_of
        return self._tokens.sign(
            {
                "sub": subject,
                "iat": now,
                "nbf": now,
                "exp": now + ttl,
                "jti": secrets.token_hex(16),
                "type": purpose,
                "iss": self._config.issuer,
                "aud": self._config.audience,
                "fgp": self._fingerprint(purpose, subject, fingerprint),
            }
        )

    async def consume(
        self,
        token: str,
        purpose: Purpose,
        *,
        fingerprint_of: Callable[[str], Awaitable[str | None]],
    ) -> str:
        """Check ``token`` for ``purpose``, use it up, and return its subject.

        Args:
            token: The token from the link.
            purpose: The purpose the route serves.
            fingerprint_of: The account's current fingerprint for this purpose, by
                user id; ``None`` when there is no such user.

        Raises:
            BadToken: The token cannot be used (any reason).
            ServiceUnavailable: The revocation store cannot be reached (the token is
                refused then: it could not be marked used).
            ValueError: An unknown purpose.
        """
        self._check_purpose(purpose)
        try:
            payload = self._tokens.verify(token, _REQUIRED_CLAIMS)
        except InvalidToken:
            raise self._refused(purpose, "invalid") from None
        if payload["type"] != purpose:
            raise self._refused(purpose, "wrong_purpose")
        subject, token_id, sealed = payload["sub"], payload["jti"], payload["fgp"]
        if not (
            isinstance(subject, str)
            and isinstance(token_id, str)
            and isinstance(sealed, str)
            and subject
            and token_id
        ):
            raise self._refused(purpose, "invalid")
        current = await fingerprint_of(subject)
        if current is None or not hmac.compare_digest(
            sealed.encode(), self._fingerprint(purpose, subject, current).encode()
        ):
            raise self._refused(purpose, "outdated")
        try:
            # Kept used a little longer than the token is accepted (the leeway).
            until = float(payload["exp"]) + self._config.leeway
            first_use = await self._revocation.use_once(token_id, until)
        except RevocationStoreError as exc:
            self._logger.warning("revocation_store_unavailable", error=str(exc))
            raise ServiceUnavailable("Token store unavailable.") from exc
        if not first_use:
            raise self._refused(purpose, "reused")
        self._logger.info("purpose_token_used", purpose=purpose, user_id=subject)
        return subject

    def _fingerprint(self, purpose: str, subject: str, fingerprint: str) -> str:
        # The purpose and subject are sealed too: a fingerprint value shared by two
        # accounts or two purposes still gives different seals.
        message = "\0".join((purpose, subject, fingerprint)).encode()
        digest = hmac.new(self._fingerprint_key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def _refused(self, purpose: str, reason: str) -> BadToken:
        self._logger.info("purpose_token_refused", purpose=purpose, reason=reason)
        return BadToken(_DETAIL)

    @staticmethod
    def _check_purpose(purpose: str) -> None:
        if purpose not in _PURPOSES:
            msg = f"unknown token purpose {purpose!r}: one of {sorted(_PURPOSES)}"
            raise ValueError(msg)
