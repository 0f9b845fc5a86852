"""``AuthConfig`` and signing keys: how tokens are signed, checked and carried."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr

if TYPE_CHECKING:
    from fastapi_kit.settings import KitSettings

__all__ = ("MAX_LEEWAY", "MIN_HMAC_KEY_BYTES", "AuthConfig", "SigningKey")

#: The largest clock leeway accepted, in seconds.
MAX_LEEWAY = 60
#: The shortest HMAC key accepted (RFC 7518 section 3.2: at least the hash size).
MIN_HMAC_KEY_BYTES = 32
#: The login route Swagger's Authorize button posts to, unless configured.
DEFAULT_TOKEN_URL = "/auth/token"  # noqa: S105  # a route, not a secret
_HMAC = frozenset({"HS256", "HS384", "HS512"})
_ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A key tokens are signed with or checked against.

    For HMAC (``HS256``...) ``key`` is the shared secret, at least 32 bytes. For
    ``RS256``/``ES256``/``EdDSA``... it is a PEM private key (to sign) or a PEM
    public key (to check only), as text or bytes.

    Attributes:
        key: The secret or PEM key.
        algorithm: The JWS algorithm; the only one accepted for this key.
        kid: The key id written in token headers; needed when several keys exist.
    """

    key: SecretStr | str | bytes = field(repr=False)
    algorithm: str = "HS256"
    kid: str | None = None

    def __post_init__(self) -> None:
        if self.algorithm not in _HMAC | _ASYMMETRIC:
            msg = f"unsupported JWT algorithm {self.algorithm!r}"
            raise ValueError(msg)
        if self.is_hmac and len(self.secret) < MIN_HMAC_KEY_BYTES:
            msg = f"the {self.algorithm} key must be at least {MIN_HMAC_KEY_BYTES} bytes"
            raise ValueError(msg)

    @property
    def is_hmac(self) -> bool:
        """Whether this is a shared-secret (HMAC) key."""
        return self.algorithm in _HMAC

    @property
    def secret(self) -> bytes:
        """The key material as bytes."""
        raw = self.key.get_secret_value() if isinstance(self.key, SecretStr) else self.key
        return raw.encode() if isinstance(raw, str) else raw

    def verification_key(self) -> Any:
        """What PyJWT checks signatures with: the secret, or the public key."""
        if self.is_hmac:
            return self.secret
        from cryptography.hazmat.primitives import serialization

        material = self.secret
        if b"PRIVATE KEY" in material:
            return serialization.load_pem_private_key(material, password=None).public_key()
        return serialization.load_pem_public_key(material)


RevocationPolicy = Literal["fail_closed", "fail_open"]


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """Token, cookie and revocation settings of [`Auth`][fastapi_kit.auth.Auth].

    Attributes:
        signing_key: The key new tokens are signed with.
        verification_keys: Older keys still accepted (key rotation by ``kid``).
        issuer: The ``iss`` claim written and required.
        audience: The ``aud`` claim written and required.
        access_ttl: Access token lifetime, seconds.
        refresh_ttl: Refresh token lifetime, seconds.
        leeway: Clock skew tolerated when checking ``exp``/``nbf``/``iat``, seconds
            (at most 60).
        token_url: The login route, shown to Swagger's Authorize button.
        revocation_policy: When the revocation store is unreachable:
            ``fail_closed`` answers 503 (the default: a revoked token must never
            work), ``fail_open`` accepts tokens that are otherwise valid.
        claims_only: Trust the token's ``roles`` instead of loading the user.
        cookie_name: The session cookie (an access token, ``HttpOnly``).
        csrf_cookie_name: The cookie holding the CSRF token (readable by scripts).
        csrf_header_name: The header that must repeat it on unsafe requests.
        cookie_secure: Send the cookies over HTTPS only (turn off for local http).
            Secure, host-only cookies take the ``__Host-`` prefix (see
            ``session_cookie``), which browsers protect from being set by sibling
            subdomains or over plain http.
        cookie_domain: The cookies' ``Domain``; host-only when ``None``.
        trusted_origins: Origins other than the app's own allowed to log in and out
            with cookies (``https://app.example.com``); see ``CookieTransport.check_origin``.
        max_token_bytes: Longer tokens are refused before any parsing.
        hash_threads: Password hashes computed at once, in worker threads.
    """

    signing_key: SigningKey
    verification_keys: tuple[SigningKey, ...] = ()
    issuer: str = "fastapi-kit"
    audience: str = "fastapi-kit"
    access_ttl: int = 900
    refresh_ttl: int = 1_209_600
    leeway: int = 30
    token_url: str = DEFAULT_TOKEN_URL
    revocation_policy: RevocationPolicy = "fail_closed"
    claims_only: bool = False
    cookie_name: str = "session"
    csrf_cookie_name: str = "csrf_token"
    csrf_header_name: str = "X-CSRF-Token"
    cookie_secure: bool = True
    cookie_domain: str | None = None
    trusted_origins: tuple[str, ...] = ()
    max_token_bytes: int = 8192
    hash_threads: int = 4

    @property
    def session_cookie(self) -> str:
        """The session cookie's name as sent.

        ``cookie_name``, with the ``__Host-`` prefix when the cookies are ``Secure``
        and host-only.
        """
        return self._cookie(self.cookie_name)

    @property
    def csrf_cookie(self) -> str:
        """The CSRF cookie's name as sent (``csrf_cookie_name``, prefixed likewise)."""
        return self._cookie(self.csrf_cookie_name)

    def _cookie(self, name: str) -> str:
        return f"__Host-{name}" if self.cookie_secure and self.cookie_domain is None else name

    def __post_init__(self) -> None:
        if not 0 <= self.leeway <= MAX_LEEWAY:
            msg = f"leeway must be between 0 and {MAX_LEEWAY} seconds"
            raise ValueError(msg)
        if self.access_ttl <= 0 or self.refresh_ttl <= 0:
            msg = "token lifetimes must be positive"
            raise ValueError(msg)
        kids = [key.kid for key in (self.signing_key, *self.verification_keys)]
        if len(kids) > 1 and (None in kids or len(set(kids)) != len(kids)):
            msg = "with several keys, every key needs its own kid"
            raise ValueError(msg)

    @classmethod
    def from_settings(cls, settings: KitSettings, **overrides: Any) -> AuthConfig:
        """Build the configuration from ``SECRET_KEY``, ``JWT_*`` and ``AUTH_*`` settings.

        Raises:
            ValueError: ``SECRET_KEY`` is not set (``Kit.use_auth`` makes a random
                one, with a warning, instead).
        """
        if settings.secret_key is None:
            msg = "SECRET_KEY is not set"
            raise ValueError(msg)
        values: dict[str, Any] = {
            "signing_key": SigningKey(settings.secret_key),
            "issuer": settings.jwt_issuer,
            "audience": settings.jwt_audience,
            "access_ttl": settings.access_token_ttl,
            "refresh_ttl": settings.refresh_token_ttl,
            "leeway": settings.jwt_leeway,
            "token_url": settings.auth_token_url,
            "revocation_policy": settings.revocation_policy,
            "cookie_secure": settings.auth_cookie_secure,
            "hash_threads": settings.password_hash_threads,
            # Origins CORS lets send credentials may log in with cookies too.
            "trusted_origins": tuple(o for o in settings.cors_origins if o != "*"),
            **overrides,
        }
        return cls(**values)
