"""``/auth``: registration, OAuth2 password logins, refresh rotation, logout, cookies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Request, Response

from fastapi_kit.auth import (
    CurrentUser,
    LoginUser,
    PasswordLoginForm,
    TokenResponse,
    hash_password,
    require_same_origin,
)
from fastapi_kit.db import DbSession
from fastapi_kit.errors import (
    Conflict,
    CSRFFailed,
    InvalidCredentials,
    InvalidToken,
    NotAuthenticated,
    problem_responses,
)
from fastapi_kit.ratelimit import client_ip, limit
from todo_app.accounts import find_by_email, load_user, normalize_email
from todo_app.dependencies import AuthDep
from todo_app.models import User
from todo_app.schemas import RefreshRequest, Registration, UserOut

if TYPE_CHECKING:
    from fastapi_kit import Kit
    from fastapi_kit.auth import Auth, TokenPair

__all__ = ("auth_router",)

LoginForm = Annotated[PasswordLoginForm, Depends()]


def auth_router(kit: Kit) -> APIRouter:
    """The authentication routes, limited by ``RATE_LIMIT_AUTH`` and ``RATE_LIMIT_DEFAULT``."""
    router = APIRouter(prefix="/auth", tags=["auth"])
    login_limit = Depends(kit.auth_rate_limit)  # per client address and per account name
    default_limit = Depends(kit.default_rate_limit)
    register_limit = Depends(
        limit(kit.settings.rate_limit_auth, key=client_ip, scope="register", on_error="closed")
    )

    async def log_in(form: PasswordLoginForm, session: DbSession, auth: Auth) -> TokenPair:
        async def store_new_hash(user: LoginUser, new_hash: str) -> None:
            if isinstance(user, User):
                user.password_hash = new_hash

        return await auth.login(
            form.username,
            form.password,
            lambda email: find_by_email(session, email),
            on_rehash=store_new_hash,
        )

    @router.post(
        "/register",
        status_code=201,
        summary="Create an account",
        dependencies=[register_limit],
        responses=problem_responses(Conflict),
    )
    async def register(body: Registration, session: DbSession) -> UserOut:
        """Any email once (case-insensitively); the password is checked, never echoed."""
        email = normalize_email(body.email)
        if await find_by_email(session, email) is not None:
            raise Conflict("This email is already registered.")
        user = User(email=email, password_hash=await hash_password(body.password), roles=["user"])
        session.add(user)
        await session.flush()  # a concurrent registration of the email: 409 as well
        return UserOut.model_validate(user)

    @router.post(
        "/token",
        summary="Log in (OAuth2 password flow)",
        response_model=TokenResponse,
        dependencies=[login_limit],
        responses=problem_responses(InvalidCredentials),
    )
    async def token(form: LoginForm, session: DbSession, auth: AuthDep) -> Response:
        """``username`` is the email. A wrong email and a wrong password look the same."""
        return auth.token_response(await log_in(form, session, auth))

    @router.post(
        "/refresh",
        summary="Exchange a refresh token for a new pair",
        response_model=TokenResponse,
        dependencies=[default_limit],
        responses=problem_responses(InvalidToken),
    )
    async def refresh(body: RefreshRequest, session: DbSession, auth: AuthDep) -> Response:
        """Rotation: the refresh token dies; presenting it again ends the whole session.

        The new pair carries the account's current roles; an inactive account gets none.
        """
        pair = await auth.refresh(body.refresh_token, lambda subject: load_user(session, subject))
        return auth.token_response(pair)

    @router.post(
        "/logout",
        status_code=204,
        summary="Log out (bearer token)",
        dependencies=[default_limit],
    )
    async def logout(request: Request, user: CurrentUser, auth: AuthDep) -> None:
        """The access token and every refresh token of its session stop working."""
        await auth.logout(auth.current_claims(request))

    @router.post(
        "/cookie/login",
        status_code=204,
        summary="Log in with a session cookie",
        dependencies=[login_limit, Depends(require_same_origin)],
        responses=problem_responses(InvalidCredentials, CSRFFailed),
    )
    async def cookie_login(form: LoginForm, session: DbSession, auth: AuthDep) -> Response:
        """Sets the ``HttpOnly`` session cookie and the readable ``csrf_token`` cookie.

        Unsafe requests authenticated by the cookie repeat ``csrf_token`` in
        ``X-CSRF-Token``. Over HTTPS the cookies are ``__Host-session`` and
        ``__Host-csrf_token``. Another site's page cannot log a browser in (403).
        """
        response = Response(status_code=204)
        auth.set_session_cookies(response, await log_in(form, session, auth))
        return response

    @router.post(
        "/cookie/logout",
        status_code=204,
        summary="Log out of a cookie session",
        dependencies=[default_limit, Depends(require_same_origin)],
        responses=problem_responses(NotAuthenticated, CSRFFailed),
    )
    async def cookie_logout(request: Request, user: CurrentUser, auth: AuthDep) -> Response:
        """Revokes the session and clears both cookies (needs ``X-CSRF-Token``)."""
        await auth.logout(auth.current_claims(request))
        response = Response(status_code=204)
        auth.clear_session_cookies(response)
        return response

    return router
