"""``Auth``: tokens, revocation, logins and sessions, composed for one app."""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import structlog
from pydantic import BaseModel, ConfigDict, Field
from starlette.authentication import AuthCredentials
from starlette.requests import Request  # noqa: TC002  # FastAPI reads get_auth's annotations
from starlette.responses import JSONResponse

from fastapi_kit._asgi import get_header, scope_state
from fastapi_kit.auth.passwords import CryptContextHasher
from fastapi_kit.auth.purpose import PurposeTokens
from fastapi_kit.auth.revocation import MemoryRevocationStore, RevocationStoreError
from fastapi_kit.auth.roles import RolePolicy
from fastapi_kit.auth.tokens import TokenClaims, TokenPair, TokenService
from fastapi_kit.auth.users import TokenUser
from fastapi_kit.context import (
    RequestContext,
    lifespan_service,
    published,
    published_authenticator,
)
from fastapi_kit.errors import (
    CSRFFailed,
    InvalidCredentials,
    InvalidToken,
    NotAuthenticated,
    ServiceUnavailable,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from starlette.responses import Response

    from fastapi_kit.auth.config import AuthConfig
    from fastapi_kit.auth.passwords import PasswordHasher
    from fastapi_kit.auth.revocation import TokenRevocationStore
    from fastapi_kit.auth.users import LoginUser, UserLoader, UserLookup, UserProtocol

__all__ = ("Auth", "TokenResponse", "get_auth", "get_auth_or_none")

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class TokenResponse(BaseModel):
    """The body of a successful login or refresh (OAuth2 token response)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsInR5"
                    "cGUiOiJhY2Nlc3MifQ.k3Cv1W4sZ5hQ9yTq2o8Bf0uE7rXnL6mDpA1gJ4cS9wY",
                    "refresh_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsInR5"
                    "cGUiOiJyZWZyZXNoIn0.Xw2R8pT5vM1nQ7bK4yH9cJ6eL3aF0sD2gZ8uV5iN1oE",
                    "token_type": "bearer",
                    "expires_in": 900,
                }
            ]
        }
    )

    access_token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    refresh_token: str = Field(description="Exchange at the refresh route; usable once.")
    token_type: str = Field("bearer", description="Always `bearer`.")
    expires_in: int = Field(description="Seconds the access token is valid for.")


class Auth:
    """Authentication for one app: tokens, revocation, passwords, sessions.

    For example:

    ```python
    auth = Auth(AuthConfig(signing_key=SigningKey(secret)), user_loader=load_user)
    app = FastAPI(lifespan=auth.lifespan)
    auth.install(app)
    ```

    With ``Kit``, ``kit.use_auth(user_loader=...)`` builds it from the settings.

    Args:
        config: Keys, lifetimes, cookies and policies.
        user_loader: ``async (subject) -> user | None``; required unless
            ``config.claims_only``, where the token's claims are the user on every
            request and the loader, if given, serves ``refresh`` only.
        revocation: Where revocations live; in process memory by default (one
            instance only: use ``RedisRevocationStore`` with several).
        hasher: Password hasher; argon2id in worker threads by default.
        role_policy: Role hierarchy and permissions for ``require_role``/``require_permission``.
    """

    def __init__(
        self,
        config: AuthConfig,
        *,
        user_loader: UserLoader | None = None,
        revocation: TokenRevocationStore | None = None,
        hasher: PasswordHasher | None = None,
        role_policy: RolePolicy | None = None,
    ) -> None:
        if user_loader is None and not config.claims_only:
            msg = "give a user_loader, or set claims_only=True to trust the token's claims"
            raise ValueError(msg)
        self.config = config
        self.tokens = TokenService(config)
        self.user_loader = user_loader
        self.revocation: TokenRevocationStore = (
            revocation if revocation is not None else MemoryRevocationStore()
        )
        self.hasher: PasswordHasher = (
            hasher if hasher is not None else CryptContextHasher(threads=config.hash_threads)
        )
        self.role_policy = role_policy if role_policy is not None else RolePolicy()
        #: Email verification and password reset tokens, signed with the same key.
        self.purpose_tokens = PurposeTokens(self.tokens, self.revocation)
        self._dummy_hash: str | None = None
        self._logger = structlog.get_logger("fastapi_kit.auth")
        self._cookie_key = config.session_cookie
        self._trusted_origins = frozenset(
            origin
            for origin in map(_normalized_origin, config.trusted_origins)
            if origin is not None
        )

    # --- requests ---------------------------------------------------------------

    async def authenticate_request(self, request: Request) -> UserProtocol | None:
        """Return the request's user, ``None`` without credentials, or raise 401/403/503.

        A ``Bearer`` token in ``Authorization`` wins; otherwise the session cookie is
        used, and then unsafe methods must repeat the CSRF cookie in ``X-CSRF-Token``.
        Tokens in query strings are never read. A request is authenticated once:
        later calls (another dependency, a rate-limit key) get the same user.
        """
        context = RequestContext.of(request.scope)
        if context.user is not None:
            return context.user
        header = get_header(request.scope, b"authorization")
        if header is not None:
            token = self._bearer_token(header)
            from_cookie = False
        else:
            cookie_token = request.cookies.get(self._cookie_key)
            if cookie_token is None:
                return None
            token, from_cookie = cookie_token, True
        claims = self.tokens.decode(token, "access")
        if from_cookie and request.method not in _SAFE_METHODS:
            self._check_csrf(request)
        await self._check_not_revoked(claims)
        user = await self._user_for(claims)
        context.user, context.claims = user, claims
        # Where Starlette's AuthenticationMiddleware puts them: request.user works.
        request.scope["user"] = user
        request.scope["auth"] = AuthCredentials(sorted(user.roles))
        scope_state(request.scope)["user_id"] = user.id  # documented for application code
        context.bind_log_context(user_id=str(user.id))
        return user

    @staticmethod
    def _bearer_token(header: bytes) -> str:
        scheme, _, credentials = header.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer":
            raise NotAuthenticated("Use a Bearer token.")
        token = credentials.strip()
        if not token or " " in token:
            raise InvalidToken("Malformed Authorization header.")
        return token

    def _check_csrf(self, request: Request) -> None:
        expected = request.cookies.get(self.config.csrf_cookie, "")
        sent = request.headers.get(self.config.csrf_header_name, "")
        if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
            raise CSRFFailed(
                f"Send the {self.config.csrf_cookie} cookie's value in "
                f"the {self.config.csrf_header_name} header."
            )

    def check_origin(self, request: Request) -> None:
        """Refuse a cookie login or logout another site made the browser send (403).

        A cross-site form could otherwise log the victim into the attacker's account
        (login CSRF), or out of their own. Browsers say where a request comes from:

        * ``Sec-Fetch-Site: same-origin`` (or ``none``, typed by the user) passes;
        * otherwise ``Origin`` must be the app's own (scheme and ``Host``) or one of
          ``config.trusted_origins``; ``Origin: null`` never passes;
        * a request with neither header is not a browser's, and passes.

        Raises:
            CSRFFailed: The request comes from another origin.
        """
        site = get_header(request.scope, b"sec-fetch-site")
        if site in (b"same-origin", b"none"):
            return
        origin = get_header(request.scope, b"origin")
        if origin is None:
            if site is None:
                return  # not a browser: curl, a mobile app, a test client
            raise CSRFFailed("Cross-site requests may not log in or out.")
        sent = _normalized_origin(origin.decode("latin-1"))
        if sent is None or (sent != _own_origin(request) and sent not in self._trusted_origins):
            raise CSRFFailed("Cross-site requests may not log in or out.")

    async def _check_not_revoked(self, claims: TokenClaims) -> None:
        try:
            revoked = await self.revocation.is_revoked(claims)
        except RevocationStoreError as exc:
            self._logger.warning("revocation_store_unavailable", error=str(exc))
            if self.config.revocation_policy == "fail_closed":
                raise self._unavailable() from exc
            return
        if revoked:
            raise InvalidToken("Token revoked.")

    async def _user_for(self, claims: TokenClaims) -> UserProtocol:
        if self.config.claims_only:
            return TokenUser(id=claims.subject, roles=claims.roles)
        assert self.user_loader is not None  # noqa: S101  # __init__ requires one
        return await self._load_active(self.user_loader, claims.subject)

    @staticmethod
    async def _load_active(load_user: UserLoader, subject: str) -> UserProtocol:
        user = await load_user(subject)
        if user is None or not user.is_active:
            raise InvalidToken("Invalid token.")
        return user

    @staticmethod
    def current_claims(request: Request) -> TokenClaims:
        """The claims of the token the request was authenticated with.

        Raises:
            NotAuthenticated: The request was not authenticated (call it after
                ``CurrentUser`` ran).
        """
        claims = RequestContext.of(request.scope).claims
        if claims is None:
            raise NotAuthenticated("Authentication required.")
        return claims

    # --- tokens -----------------------------------------------------------------

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
            self._logger.warning("revocation_store_unavailable", error=str(exc))
            if self.config.revocation_policy == "fail_closed":
                raise self._unavailable() from exc
            return time.time()

    def issue_tokens(self, user: UserProtocol, *, as_of: float) -> TokenPair:
        """Issue a new token pair (a new family) for ``user``.

        Args:
            user: The user, as read from storage.
            as_of: ``await auth.now()``, taken before ``user`` was read: the tokens'
                ``iat``. A change to the user that revokes it afterwards covers
                these tokens too, however late they are issued, so a login that
                read the user before the change committed cannot keep the old
                roles or an inactive account's access.
        """
        return self.tokens.issue_pair(str(user.id), user.roles, as_of=as_of)

    async def login(
        self,
        username: str,
        password: str,
        lookup: UserLookup,
        *,
        on_rehash: Callable[[LoginUser, str], Awaitable[None]] | None = None,
    ) -> TokenPair:
        """Check a username and password and issue a token pair.

        An unknown user, a wrong password and an inactive account get the same
        [`InvalidCredentials`][fastapi_kit.errors.InvalidCredentials] after the same
        work (an unknown user's password is checked against a dummy hash). When the
        stored hash uses outdated settings (bcrypt, weaker argon2), ``on_rehash``
        receives the new hash to store.

        Args:
            username: What the user typed as username (an email, say).
            password: What the user typed as password.
            lookup: ``async (username) -> user | None``.
            on_rehash: ``async (user, new_hash)``, to store an upgraded hash.
        """
        started = await self.now()  # before the read: see ``issue_tokens``
        user = await lookup(username)
        if user is None:
            await self.hasher.verify(password, await self._dummy())
            raise self._invalid_credentials()
        matches, new_hash = await self.hasher.verify_and_update(password, user.password_hash)
        if not matches or not user.is_active:
            raise self._invalid_credentials()
        if new_hash is not None and on_rehash is not None:
            await on_rehash(user, new_hash)
        return self.issue_tokens(user, as_of=started)

    @staticmethod
    def _invalid_credentials() -> InvalidCredentials:
        return InvalidCredentials("Incorrect username or password.")

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    async def refresh(self, refresh_token: str, load_user: UserLoader | None = None) -> TokenPair:
        """Exchange a refresh token for a new pair in the same family (rotation).

        The refresh token is dead afterwards. Presenting it again revokes its whole
        family (every token of that login): a stolen refresh token, or its copy the
        user still holds, can be used once at most. Of concurrent refreshes with one
        token, exactly one succeeds.

        The user is loaded again, in claims-only mode too: the new pair carries the
        user's current roles, and an inactive or deleted user gets no new pair.
        Refreshes are rare, so this lookup is cheap where it matters.

        Args:
            refresh_token: The refresh token the client presented.
            load_user: ``async (subject) -> user | None``; the ``user_loader`` given
                to ``Auth`` when ``None``.

        Raises:
            InvalidToken: The token is invalid, expired, revoked or was already used,
                or its user is unknown or inactive.
            ServiceUnavailable: The revocation store cannot be reached.
            RuntimeError: No user loader at all (a set-up error).
        """
        load_user = load_user if load_user is not None else self.user_loader
        if load_user is None:
            msg = "refresh needs a user loader: Auth(user_loader=...) or refresh(..., load_user)"
            raise RuntimeError(msg)
        claims = self.tokens.decode(refresh_token, "refresh")
        await self._check_not_revoked(claims)
        # The user first: a database that is down then leaves the token unused.
        started = await self.now()  # before the read: see ``issue_tokens``
        user = await self._load_active(load_user, claims.subject)
        try:
            first_use = await self.revocation.use_once(claims.token_id, claims.expires_at)
            if not first_use:
                await self.revocation.revoke_family(claims.family, self._family_expiry())
        except RevocationStoreError as exc:
            raise self._unavailable() from exc
        if not first_use:
            self._logger.warning("refresh_token_reused", family=claims.family)
            raise InvalidToken("Refresh token already used: the session was revoked.")
        return self.tokens.issue_pair(
            claims.subject, user.roles, family=claims.family, as_of=started
        )

    async def logout(self, claims: TokenClaims) -> None:
        """Revoke the token and its whole family (its refresh tokens included)."""
        try:
            await self.revocation.revoke_token(
                claims.token_id, claims.expires_at + self.config.leeway
            )
            await self.revocation.revoke_family(claims.family, self._family_expiry())
        except RevocationStoreError as exc:
            raise self._unavailable() from exc

    async def revoke_user(self, subject: str) -> None:
        """Revoke every token of ``subject`` issued until now (logout everywhere).

        For a change to the user (roles, deactivation, a new password), use
        [`revoking_user`][fastapi_kit.auth.Auth.revoking_user] instead: a revocation
        made before the change commits misses the logins that read the user before
        the commit and issue their tokens after the revocation.
        """
        try:
            cutoff = await self.revocation.now()
            await self.revocation.revoke_subject(subject, cutoff, self._family_expiry())
        except RevocationStoreError as exc:
            raise self._unavailable() from exc

    @asynccontextmanager
    async def revoking_user(self, subject: str) -> AsyncIterator[None]:
        """End every session of ``subject`` around a change to the user; commit inside.

        For example:

        ```python
        async with auth.revoking_user(str(user.id)):
            user.roles = ["user"]
            await session.commit()
        ```

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
        await self.revoke_user(subject)
        yield
        try:
            # Shielded: a request cancelled after its commit still ends the sessions.
            await asyncio.shield(self.revoke_user(subject))
        except ServiceUnavailable:
            self._logger.error("user_revocation_after_change_failed", subject=subject)
            raise

    def _family_expiry(self) -> float:
        return time.time() + self.config.refresh_ttl + self.config.leeway

    @staticmethod
    def _unavailable() -> ServiceUnavailable:
        return ServiceUnavailable("Token revocation is unavailable; try again shortly.")

    # --- responses ----------------------------------------------------------------

    @staticmethod
    def token_response(pair: TokenPair) -> JSONResponse:
        """The OAuth2 token response for ``pair``, with ``Cache-Control: no-store``."""
        body = TokenResponse(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
        )
        return JSONResponse(
            body.model_dump(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"}
        )

    def set_session_cookies(self, response: Response, pair: TokenPair) -> str:
        """Set the ``HttpOnly`` session cookie and the readable CSRF cookie.

        Returns:
            The CSRF token, which unsafe requests must repeat in ``X-CSRF-Token``.
        """
        csrf = secrets.token_urlsafe(32)
        config = self.config
        common: dict[str, Any] = {
            "max_age": config.access_ttl,
            "secure": config.cookie_secure,
            "samesite": "lax",
            "domain": config.cookie_domain,
            "path": "/",
        }
        response.set_cookie(config.session_cookie, pair.access_token, httponly=True, **common)
        response.set_cookie(config.csrf_cookie, csrf, httponly=False, **common)
        response.headers["Cache-Control"] = "no-store"
        return csrf

    def clear_session_cookies(self, response: Response) -> None:
        """Delete both session cookies."""
        config = self.config
        for name, httponly in ((config.session_cookie, True), (config.csrf_cookie, False)):
            response.delete_cookie(
                name,
                path="/",
                domain=config.cookie_domain,
                secure=config.cookie_secure,
                httponly=httponly,
                samesite="lax",
            )

    # --- app wiring -----------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, _app: object = None) -> AsyncIterator[dict[str, object]]:
        """Publish this ``Auth`` to requests (lifespan state); prepare the dummy hash.

        It is published as the app's ``Authenticator`` too: the rate limiter's
        per-user keys find it with one lookup.
        """
        await self._dummy()
        yield {**published(Auth, self), **published_authenticator(self)}


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _normalized_origin(origin: str) -> str | None:
    """``scheme://host[:port]`` lower-cased, without a default port; ``None`` if not one."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    default = _DEFAULT_PORTS.get(parts.scheme.lower())
    host = parts.hostname
    if default is None or not host or parts.path or parts.query or parts.username:
        return None
    authority = f"[{host}]" if ":" in host else host
    if port is not None and port != default:
        authority = f"{authority}:{port}"
    return f"{parts.scheme.lower()}://{authority}"


def _own_origin(request: Request) -> str | None:
    """The origin the request was sent to: its scheme and ``Host``."""
    host = get_header(request.scope, b"host")
    if host is None:
        return None
    return _normalized_origin(f"{request.scope.get('scheme', 'http')}://{host.decode('latin-1')}")


def get_auth_or_none(request: Request) -> Auth | None:
    """Return the app's ``Auth`` from the lifespan state, or ``None``."""
    return lifespan_service(request.scope, Auth)


def get_auth(request: Request) -> Auth:
    """Return the app's [`Auth`][fastapi_kit.auth.Auth] (a dependency).

    Raises:
        RuntimeError: No ``Auth`` was started with the app (a 500, logged).
    """
    auth = get_auth_or_none(request)
    if auth is None:
        msg = (
            "no Auth in the lifespan state: call kit.use_auth(...) before kit.install(app), "
            "or create the app with FastAPI(lifespan=auth.lifespan)"
        )
        raise RuntimeError(msg)
    return auth
