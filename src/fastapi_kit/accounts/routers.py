"""The ready-made account routers: ``include_router`` them, give them your user store.

Each factory takes ``user_store``, a FastAPI dependency that returns the request's
[`UserStore`][fastapi_kit.accounts.UserStore]; ``account_routers`` makes all five:

```python
def user_store(session: DbSession) -> SQLAlchemyUserStore[User]:
    return SQLAlchemyUserStore(session, User)


api = APIRouter(prefix="/api/v1")
for router in account_routers(user_store):
    api.include_router(router)
```

Every route is rate limited from the app's ``RATE_LIMIT_AUTH`` / ``RATE_LIMIT_DEFAULT``;
answers holding tokens or secrets carry ``Cache-Control: no-store``.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations,
# which name the factories' local dependencies.

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from starlette.responses import JSONResponse

from fastapi_kit.accounts.emails import email_key
from fastapi_kit.accounts.schemas import (
    Accepted,
    EmailRequest,
    PasswordChange,
    RecoveryCodesOut,
    RefreshRequest,
    Registration,
    ResetPasswordRequest,
    TokenRequest,
    TOTPCode,
    TOTPEnrolmentOut,
    UserRead,
)
from fastapi_kit.accounts.service import Accounts, get_accounts
from fastapi_kit.accounts.store import UserStore
from fastapi_kit.auth import (
    Auth,
    CurrentUser,
    PasswordLoginForm,
    TokenResponse,
    get_auth,
    require_same_origin,
)
from fastapi_kit.errors import (
    BadToken,
    Conflict,
    CSRFFailed,
    EmailNotVerified,
    IncorrectPassword,
    InvalidCredentials,
    InvalidToken,
    MFARequired,
    NotAuthenticated,
    problem_responses,
)
from fastapi_kit.ratelimit import (
    Budget,
    Limit,
    auth_limits,
    client_ip,
    default_limit,
    form_field,
    login_limit,
    user_id,
)

__all__ = (
    "UserStoreDependency",
    "account_routers",
    "auth_router",
    "register_router",
    "reset_password_router",
    "users_router",
    "verify_router",
)

#: ``(…dependencies) -> UserStore``: gives a route the request's user store.
UserStoreDependency = Callable[..., UserStore[Any]]

AuthDep = Annotated[Auth, Depends(get_auth)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]
LoginForm = Annotated[PasswordLoginForm, Depends()]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_ACCEPTED = "If the address has an account, mail is on its way."

# RATE_LIMIT_AUTH per client address and per account name (logins, the mails);
# RATE_LIMIT_DEFAULT per user or address elsewhere. Read from the app's RateLimiter.


def _account(name: str) -> str:
    """One budget per account, however its address is spelt (case, look-alikes)."""
    try:
        return email_key(name)
    except ValueError:
        return name.lower()


_LOGIN = Depends(login_limit(normalize=_account))  # the account keyed like the account
_DEFAULT = Depends(default_limit())
_REGISTER = Depends(Limit(auth_limits, budgets=[Budget(client_ip, "register")], on_error="closed"))
_MAIL = Depends(
    Limit(
        auth_limits,
        budgets=[
            Budget(client_ip, "mail-ip"),
            Budget(form_field("email", normalize=_account), "mail-account"),
        ],
        on_error="closed",
    )
)
_LINK = Depends(Limit(auth_limits, budgets=[Budget(client_ip, "link")], on_error="closed"))
_PASSWORD = Depends(Limit(auth_limits, budgets=[Budget(user_id, "password")], on_error="closed"))


def auth_router(user_store: UserStoreDependency) -> APIRouter:
    """``/auth``: token and cookie logins (with ``otp``), refresh, logout, logout-all."""
    router = APIRouter(prefix="/auth", tags=["auth"])
    Store = Annotated[UserStore[Any], Depends(user_store)]  # noqa: N806  # a type alias

    @router.post(
        "/token",
        summary="Log in (OAuth2 password flow)",
        response_model=TokenResponse,
        dependencies=[_LOGIN],
        responses=problem_responses(InvalidCredentials, MFARequired, EmailNotVerified),
    )
    async def token(form: LoginForm, store: Store, accounts: AccountsDep) -> Response:
        """``username`` is the email; ``otp`` the second factor, when the account has one.

        A wrong email, a wrong password and a wrong code look the same.
        """
        pair = await accounts.login(store, form.username, form.password, form.otp)
        return accounts.auth.bearer.login_response(pair)

    @router.post(
        "/refresh",
        summary="Exchange a refresh token for a new pair",
        response_model=TokenResponse,
        dependencies=[_DEFAULT],
        responses=problem_responses(InvalidToken),
    )
    async def refresh(body: RefreshRequest, store: Store, accounts: AccountsDep) -> Response:
        """Rotation: the refresh token dies; presenting it again ends the whole session.

        The new pair carries the account's current roles; an inactive account gets
        none, nor does an unverified one when verified addresses are required.
        """
        pair = await accounts.refresh(store, body.refresh_token)
        return accounts.auth.bearer.login_response(pair)

    @router.post(
        "/logout", status_code=204, summary="Log out (bearer token)", dependencies=[_DEFAULT]
    )
    async def logout(request: Request, user: CurrentUser, auth: AuthDep) -> Response:
        """The access token and every refresh token of its session stop working."""
        await auth.logout(auth.current_claims(request))
        return auth.bearer.logout_response()

    @router.post(
        "/logout-all",
        status_code=204,
        summary="Log out everywhere",
        dependencies=[_DEFAULT],
    )
    async def logout_all(user: CurrentUser, auth: AuthDep) -> Response:
        """Every token of the account stops working, on every instance."""
        await auth.logout_everywhere(str(user.id))
        return auth.cookie.logout_response()  # a browser's cookies go too

    @router.post(
        "/cookie/login",
        status_code=204,
        summary="Log in with a session cookie",
        dependencies=[_LOGIN, Depends(require_same_origin)],
        responses=problem_responses(InvalidCredentials, MFARequired, EmailNotVerified, CSRFFailed),
    )
    async def cookie_login(form: LoginForm, store: Store, accounts: AccountsDep) -> Response:
        """Sets the ``HttpOnly`` session cookie and the readable ``csrf_token`` cookie.

        Unsafe requests authenticated by the cookie repeat ``csrf_token`` in
        ``X-CSRF-Token``. Over HTTPS the cookies are ``__Host-session`` and
        ``__Host-csrf_token``. Another site's page cannot log a browser in (403).
        """
        pair = await accounts.login(store, form.username, form.password, form.otp)
        return accounts.auth.cookie.login_response(pair)

    @router.post(
        "/cookie/logout",
        status_code=204,
        summary="Log out of a cookie session",
        dependencies=[_DEFAULT, Depends(require_same_origin)],
        responses=problem_responses(NotAuthenticated, CSRFFailed),
    )
    async def cookie_logout(request: Request, user: CurrentUser, auth: AuthDep) -> Response:
        """Revokes the session and clears both cookies (needs ``X-CSRF-Token``)."""
        await auth.logout(auth.current_claims(request))
        return auth.cookie.logout_response()

    return router


def register_router(
    user_store: UserStoreDependency, user_schema: type[BaseModel] = UserRead
) -> APIRouter:
    """``POST /auth/register``: a new account, and its verification mail."""
    router = APIRouter(prefix="/auth", tags=["auth"])
    Store = Annotated[UserStore[Any], Depends(user_store)]  # noqa: N806  # a type alias

    @router.post(
        "/register",
        status_code=201,
        summary="Create an account",
        response_model=user_schema,
        dependencies=[_REGISTER],
        responses=problem_responses(Conflict),
    )
    async def register(body: Registration, store: Store, accounts: AccountsDep) -> Any:
        """Any address once (whatever its case, Unicode form or look-alike letters).

        The password is checked, never echoed; a verification mail is sent.
        """
        user = await accounts.register(store, body.email, body.password)
        return user_schema.model_validate(user)

    return router


def verify_router(
    user_store: UserStoreDependency, user_schema: type[BaseModel] = UserRead
) -> APIRouter:
    """``/auth/verify``: ask for a verification mail, and use its token."""
    router = APIRouter(prefix="/auth", tags=["auth"])
    Store = Annotated[UserStore[Any], Depends(user_store)]  # noqa: N806  # a type alias

    @router.post(
        "/verify/request",
        status_code=202,
        summary="Send a verification mail",
        dependencies=[_MAIL],
    )
    async def request_verification(
        body: EmailRequest, store: Store, accounts: AccountsDep
    ) -> Accepted:
        """The same 202 whether the address has an account, is verified, or not."""
        await accounts.request_verification(store, body.email)
        return Accepted(detail=_ACCEPTED)

    @router.post(
        "/verify",
        summary="Verify an email address",
        response_model=user_schema,
        dependencies=[_LINK],
        responses=problem_responses(BadToken),
    )
    async def verify(body: TokenRequest, store: Store, accounts: AccountsDep) -> Any:
        """Uses up the token of the mail; the account is verified."""
        return user_schema.model_validate(await accounts.verify(store, body.token))

    return router


def reset_password_router(user_store: UserStoreDependency) -> APIRouter:
    """``/auth/forgot-password`` and ``/auth/reset-password``."""
    router = APIRouter(prefix="/auth", tags=["auth"])
    Store = Annotated[UserStore[Any], Depends(user_store)]  # noqa: N806  # a type alias

    @router.post(
        "/forgot-password",
        status_code=202,
        summary="Send a password reset mail",
        dependencies=[_MAIL],
    )
    async def forgot_password(body: EmailRequest, store: Store, accounts: AccountsDep) -> Accepted:
        """The same 202, body and timing whether the address has an account or not."""
        await accounts.forgot_password(store, body.email)
        return Accepted(detail=_ACCEPTED)

    @router.post(
        "/reset-password",
        status_code=204,
        summary="Set a new password with a reset token",
        dependencies=[_LINK],
        responses=problem_responses(BadToken),
    )
    async def reset_password(
        body: ResetPasswordRequest, store: Store, accounts: AccountsDep
    ) -> Response:
        """Uses up the token; every session of the account ends, on every instance."""
        await accounts.reset_password(store, body.token, body.password)
        return Response(status_code=204, headers=_NO_STORE)

    return router


def users_router(
    user_store: UserStoreDependency, user_schema: type[BaseModel] = UserRead
) -> APIRouter:
    """``/users/me``: the account, its password, its second factor."""
    router = APIRouter(prefix="/users", tags=["users"], dependencies=[_DEFAULT])
    Store = Annotated[UserStore[Any], Depends(user_store)]  # noqa: N806  # a type alias

    async def account(
        user: CurrentUser, store: Annotated[UserStore[Any], Depends(user_store)]
    ) -> Any:
        found = await store.get(str(user.id))
        if found is None:  # deleted behind the token's back
            raise InvalidToken("The account no longer exists.")
        return found

    Account = Annotated[Any, Depends(account)]  # noqa: N806  # a type alias

    @router.get("/me", summary="The authenticated user", response_model=user_schema)
    async def me(me: Account) -> Any:
        """The account the token or session cookie belongs to."""
        return user_schema.model_validate(me)

    @router.post(
        "/me/password",
        summary="Change the password",
        response_model=TokenResponse,
        dependencies=[_PASSWORD],
        responses=problem_responses(IncorrectPassword),
    )
    async def change_password(
        request: Request, body: PasswordChange, me: Account, store: Store, accounts: AccountsDep
    ) -> Response:
        """Every older token of the account stops working; the answer is a new pair.

        From a cookie session, the new session cookies come with it: the browser
        stays signed in.
        """
        auth = accounts.auth
        found = auth.credential(request)  # the transport the request came by
        pair = await accounts.change_password(store, me, body.current_password, body.new_password)
        response = auth.bearer.login_response(pair)
        if found is not None and found[0] is auth.cookie:
            auth.cookie.set_cookies(response, pair)
        return response

    @router.post(
        "/me/mfa/totp",
        summary="Start TOTP enrolment",
        response_model=TOTPEnrolmentOut,
        responses=problem_responses(Conflict),
    )
    async def start_totp(me: Account, store: Store, accounts: AccountsDep) -> Response:
        """A new secret for an authenticator app; inactive until confirmed with a code."""
        enrolment = await accounts.start_totp(store, me)
        body = TOTPEnrolmentOut(secret=enrolment.secret, otpauth_uri=enrolment.uri)
        return JSONResponse(body.model_dump(), headers=_NO_STORE)

    @router.post(
        "/me/mfa/totp/confirm",
        summary="Turn TOTP on",
        response_model=RecoveryCodesOut,
        dependencies=[_PASSWORD],
        responses=problem_responses(BadToken),
    )
    async def confirm_totp(
        body: TOTPCode, me: Account, store: Store, accounts: AccountsDep
    ) -> Response:
        """A current code turns MFA on; the answer's recovery codes are shown this once."""
        codes = await accounts.confirm_totp(store, me, body.code)
        return JSONResponse(
            RecoveryCodesOut(recovery_codes=list(codes)).model_dump(), headers=_NO_STORE
        )

    @router.delete(
        "/me/mfa/totp",
        status_code=204,
        summary="Turn TOTP off",
        dependencies=[_PASSWORD],
        responses=problem_responses(BadToken),
    )
    async def disable_totp(
        body: TOTPCode, me: Account, store: Store, accounts: AccountsDep
    ) -> Response:
        """Needs a current code or an unused recovery code."""
        await accounts.disable_totp(store, me, body.code)
        return Response(status_code=204)

    return router


def account_routers(
    user_store: UserStoreDependency, user_schema: type[BaseModel] = UserRead
) -> tuple[APIRouter, ...]:
    """All five account routers, over one store and one user schema.

    ``auth_router``, ``register_router``, ``verify_router``, ``reset_password_router``
    and ``users_router``, in that order.
    """
    return (
        auth_router(user_store),
        register_router(user_store, user_schema),
        verify_router(user_store, user_schema),
        reset_password_router(user_store),
        users_router(user_store, user_schema),
    )
