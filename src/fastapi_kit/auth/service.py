"""``Auth``: the authentication backend, composing transports and a strategy.

A request's credential is found by a [transport][fastapi_kit.auth.Transport]
(bearer header, session cookie) and understood by the
[strategy][fastapi_kit.auth.JWTStrategy] (JWTs, rotation, revocation); ``Auth``
composes them with the user loader, the password hasher and the role policy.
"""

from __future__ import annotations

import secrets
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypeVar

from starlette.authentication import AuthCredentials
from starlette.requests import Request  # noqa: TC002  # FastAPI reads get_auth's annotations

from fastapi_kit._asgi import scope_state
from fastapi_kit.auth.passwords import CryptContextHasher
from fastapi_kit.auth.purpose import PurposeTokens
from fastapi_kit.auth.revocation import MemoryRevocationStore
from fastapi_kit.auth.roles import RolePolicy
from fastapi_kit.auth.strategy import JWTStrategy
from fastapi_kit.auth.transports import BearerTransport, CookieTransport
from fastapi_kit.auth.users import TokenUser
from fastapi_kit.context import (
    RequestContext,
    lifespan_service,
    published,
    published_authenticator,
)
from fastapi_kit.errors import InvalidCredentials, InvalidToken, NotAuthenticated

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from contextlib import AbstractAsyncContextManager

    from fastapi_kit.auth.config import AuthConfig
    from fastapi_kit.auth.passwords import PasswordHasher
    from fastapi_kit.auth.revocation import TokenRevocationStore
    from fastapi_kit.auth.tokens import TokenClaims, TokenPair
    from fastapi_kit.auth.transports import Transport
    from fastapi_kit.auth.users import LoginUser, UserLoader, UserLookup, UserProtocol

__all__ = ("Auth", "get_auth", "get_auth_or_none", "invalid_credentials")

L = TypeVar("L", bound="LoginUser")


class Auth:
    """Authentication for one app: transports, a strategy, users, passwords.

    For example:

    ```python
    auth = Auth(AuthConfig(signing_key=SigningKey(secret)), user_loader=load_user)
    app = FastAPI(lifespan=auth.lifespan)
    install_auth(app, auth)
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
        self.user_loader = user_loader
        #: What a token means: JWTs with rotation, revoked in ``revocation``.
        self.strategy = JWTStrategy(
            config, revocation if revocation is not None else MemoryRevocationStore()
        )
        self.tokens = self.strategy.tokens
        self.revocation = self.strategy.revocation
        #: ``Authorization: Bearer``, and the session cookie with its CSRF token.
        self.bearer = BearerTransport()
        self.cookie = CookieTransport(config)
        #: Where requests are looked for credentials, in this order.
        self.transports: tuple[Transport, ...] = (self.bearer, self.cookie)
        self.hasher: PasswordHasher = (
            hasher if hasher is not None else CryptContextHasher(threads=config.hash_threads)
        )
        self.role_policy = role_policy if role_policy is not None else RolePolicy()
        #: Email verification and password reset tokens, signed with the same key.
        self.purpose_tokens = PurposeTokens(self.tokens, self.revocation)
        self._dummy_hash: str | None = None

    # --- requests ---------------------------------------------------------------

    async def authenticate_request(self, request: Request) -> UserProtocol | None:
        """Return the request's user, ``None`` without credentials, or raise 401/403/503.

        The first transport that finds a credential wins (a ``Bearer`` token before
        the session cookie); its own checks run (the CSRF header of a cookie
        session's unsafe request), then the strategy checks the credential. A request is
        authenticated once: later calls (another dependency, a rate-limit key) get
        the same user.
        """
        context = RequestContext.of(request.scope)
        if context.user is not None:
            return context.user
        found = self.credential(request)
        if found is None:
            return None
        transport, token = found
        transport.check(request)  # first: a forged request costs no store lookup
        claims = await self.strategy.read_token(token)
        user = await self._user_for(claims)
        context.user, context.claims = user, claims
        # Where Starlette's AuthenticationMiddleware puts them: request.user works.
        request.scope["user"] = user
        request.scope["auth"] = AuthCredentials(sorted(user.roles))
        scope_state(request.scope)["user_id"] = user.id  # documented for application code
        context.bind_log_context(user_id=str(user.id))
        return user

    def credential(self, request: Request) -> tuple[Transport, str] | None:
        """The first transport that finds a credential in ``request``, and the credential.

        Raises:
            NotAuthenticated: A credential of another kind (``Basic``, say).
            InvalidToken: A malformed credential.
        """
        for transport in self.transports:
            token = transport.read(request)
            if token is not None:
                return transport, token
        return None

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

    # --- logins -----------------------------------------------------------------

    def issue_tokens(self, user: UserProtocol, *, as_of: float) -> TokenPair:
        """Issue a new token pair (a new family) for ``user``.

        Args:
            user: The user, as read from storage.
            as_of: ``await auth.strategy.now()``, taken before ``user`` was read:
                the tokens' ``iat``. A change to the user that revokes it afterwards
                covers these tokens too, however late they are issued, so a login
                that read the user before the change committed cannot keep the old
                roles or an inactive account's access.
        """
        return self.strategy.write_token(str(user.id), user.roles, as_of=as_of)

    async def check_password(
        self,
        username: str,
        password: str,
        lookup: Callable[[str], Awaitable[L | None]],
        *,
        on_rehash: Callable[[L, str], Awaitable[object]] | None = None,
    ) -> L:
        """Return the active user ``username`` names if ``password`` is theirs.

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
        user = await lookup(username)
        if user is None:
            await self.hasher.verify(password, await self._dummy())
            raise invalid_credentials()
        matches, new_hash = await self.hasher.verify_and_update(password, user.password_hash)
        if not matches or not user.is_active:
            raise invalid_credentials()
        if new_hash is not None and on_rehash is not None:
            await on_rehash(user, new_hash)
        return user

    async def login(
        self,
        username: str,
        password: str,
        lookup: UserLookup,
        *,
        on_rehash: Callable[[LoginUser, str], Awaitable[object]] | None = None,
    ) -> TokenPair:
        """Check a username and password and issue a token pair.

        [`check_password`][fastapi_kit.auth.Auth.check_password], then
        [`issue_tokens`][fastapi_kit.auth.Auth.issue_tokens] as of a time taken
        before the user was read.
        """
        started = await self.strategy.now()  # before the read: see ``issue_tokens``
        user = await self.check_password(username, password, lookup, on_rehash=on_rehash)
        return self.issue_tokens(user, as_of=started)

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
        claims = await self.strategy.read_token(refresh_token, "refresh")
        # The user first: a database that is down then leaves the token unused.
        started = await self.strategy.now()  # before the read: see ``issue_tokens``
        user = await self._load_active(load_user, claims.subject)
        await self.strategy.use_refresh_token(claims)
        return self.strategy.write_token(
            claims.subject, user.roles, family=claims.family, as_of=started
        )

    async def logout(self, claims: TokenClaims) -> None:
        """Revoke the token and its whole family (its refresh tokens included)."""
        await self.strategy.destroy_token(claims)

    async def logout_everywhere(self, subject: str) -> None:
        """Revoke every token of ``subject`` issued until now, on every instance.

        For a change to the user (roles, deactivation, a new password), use
        [`revoking_user`][fastapi_kit.auth.Auth.revoking_user] instead.
        """
        await self.strategy.destroy_user_tokens(subject)

    def revoking_user(self, subject: str) -> AbstractAsyncContextManager[None]:
        """End every session of ``subject`` around a change to the user; commit inside.

        For example:

        ```python
        async with auth.revoking_user(str(user.id)):
            user.roles = ["user"]
            await session.commit()
        ```

        See [`JWTStrategy.revoking_user`][fastapi_kit.auth.JWTStrategy.revoking_user]
        for why it revokes before and after the block.
        """
        return self.strategy.revoking_user(subject)

    # --- app wiring -----------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, _app: object = None) -> AsyncIterator[dict[str, object]]:
        """Publish this ``Auth`` to requests (lifespan state); prepare the dummy hash.

        It is published as the app's ``Authenticator`` too: the rate limiter's
        per-user keys find it with one lookup.
        """
        await self._dummy()
        yield {**published(Auth, self), **published_authenticator(self)}


def invalid_credentials() -> InvalidCredentials:
    """The one answer to every failed password (or second-factor) check."""
    return InvalidCredentials("Incorrect username or password.")


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
