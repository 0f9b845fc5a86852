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
from fastapi_kit.ratelimit import auth_limits, client_ip, default_limit, limit, login_limit
from todo_app.accounts import find_by_email, load_user, normalize_email
from todo_app.dependencies import AuthDep
from todo_app.models import User
from todo_app.schemas import RefreshRequest, Registration, UserOut

if TYPE_CHECKING:
    from fastapi_kit.auth import Auth, TokenPair

__all__ = ("router",)

LoginForm = Annotated[PasswordLoginForm, Depends()]


#: The authentication routes, limited by ``RATE_LIMIT_AUTH`` and ``RATE_LIMIT_DEFAULT``.
router = APIRouter(prefix="/auth", tags=["auth"])
# RATE_LIMIT_AUTH per client address and per account name; RATE_LIMIT_DEFAULT; and
# RATE_LIMIT_AUTH per address on registrations: read from the app's RateLimiter.
LOGIN_LIMIT = Depends(login_limit())
DEFAULT_LIMIT = Depends(default_limit())
REGISTER_LIMIT = Depends(limit(auth_limits, key=client_ip, scope="register", on_error="closed"))


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
    dependencies=[REGISTER_LIMIT],
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
    dependencies=[LOGIN_LIMIT],
    responses=problem_responses(InvalidCredentials),
)
async def token(form: LoginForm, session: DbSession, auth: AuthDep) -> Response:
    """``username`` is the email. A wrong email and a wrong password look the same."""
    return auth.bearer.login_response(await log_in(form, session, auth))


@router.post(
    "/refresh",
    summary="Exchange a refresh token for a new pair",
    response_model=TokenResponse,
    dependencies=[DEFAULT_LIMIT],
    responses=problem_responses(InvalidToken),
)
async def refresh(body: RefreshRequest, session: DbSession, auth: AuthDep) -> Response:
    """Rotation: the refresh token dies; presenting it again ends the whole session.

    The new pair carries the account's current roles; an inactive account gets none.
    """
    pair = await auth.refresh(body.refresh_token, lambda subject: load_user(session, subject))
    return auth.bearer.login_response(pair)


@router.post(
    "/logout",
    status_code=204,
    summary="Log out (bearer token)",
    dependencies=[DEFAULT_LIMIT],
)
async def logout(request: Request, user: CurrentUser, auth: AuthDep) -> None:
    """The access token and every refresh token of its session stop working."""
    await auth.logout(auth.current_claims(request))


@router.post(
    "/cookie/login",
    status_code=204,
    summary="Log in with a session cookie",
    dependencies=[LOGIN_LIMIT, Depends(require_same_origin)],
    responses=problem_responses(InvalidCredentials, CSRFFailed),
)
async def cookie_login(form: LoginForm, session: DbSession, auth: AuthDep) -> Response:
    """Sets the ``HttpOnly`` session cookie and the readable ``csrf_token`` cookie.

    Unsafe requests authenticated by the cookie repeat ``csrf_token`` in
    ``X-CSRF-Token``. Over HTTPS the cookies are ``__Host-session`` and
    ``__Host-csrf_token``. Another site's page cannot log a browser in (403).
    """
    response = Response(status_code=204)
    auth.cookie.set_cookies(response, await log_in(form, session, auth))
    return response


@router.post(
    "/cookie/logout",
    status_code=204,
    summary="Log out of a cookie session",
    dependencies=[DEFAULT_LIMIT, Depends(require_same_origin)],
    responses=problem_responses(NotAuthenticated, CSRFFailed),
)
async def cookie_logout(request: Request, user: CurrentUser, auth: AuthDep) -> Response:
    """Revokes the session and clears both cookies (needs ``X-CSRF-Token``)."""
    await auth.logout(auth.current_claims(request))
    response = Response(status_code=204)
    auth.cookie.clear_cookies(response)
    return response
