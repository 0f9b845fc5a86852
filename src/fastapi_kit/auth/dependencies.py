"""Current-user dependencies: ``get_current_user``, ``CurrentUser`` and friends."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from fastapi_kit.auth.config import DEFAULT_TOKEN_URL
from fastapi_kit.auth.service import get_auth, get_auth_or_none
from fastapi_kit.auth.users import UserProtocol
from fastapi_kit.errors import NotAuthenticated

__all__ = (
    "CurrentUser",
    "OptionalUser",
    "bearer_scheme",
    "get_auth",
    "get_auth_or_none",
    "get_current_user",
    "get_optional_user",
    "require_same_origin",
)


class _DocumentedBearer(OAuth2PasswordBearer):
    """The OAuth2 password flow, for OpenAPI only: the kit reads the credentials itself.

    Being a dependency puts the security scheme on every protected operation (and
    Swagger's Authorize button in the docs); calling it costs nothing.
    """

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        """Read nothing: ``Auth.authenticate_request`` does, for bearer and cookie alike."""
        return


#: The security scheme protected operations declare. The token URL shown is the
#: configured one (``AuthConfig.token_url``); the cookie scheme is added to the
#: document next to it.
bearer_scheme = _DocumentedBearer(tokenUrl=DEFAULT_TOKEN_URL, scheme_name="OAuth2Password")


async def get_optional_user(
    request: Request, _scheme: Annotated[None, Depends(bearer_scheme)]
) -> UserProtocol | None:
    """The authenticated user, or ``None`` when the request carries no credentials.

    Credentials that are present but wrong still give a 401: a client that tried to
    authenticate and failed is told so.
    """
    return await get_auth(request).authenticate_request(request)


async def get_current_user(
    request: Request, _scheme: Annotated[None, Depends(bearer_scheme)]
) -> UserProtocol:
    """The authenticated user (a dependency).

    * No credentials: 401 ``not_authenticated``.
    * A malformed, forged, expired, revoked or wrong-type token, or a user who is
      unknown or inactive: 401 ``invalid_token``.
    * Both with ``WWW-Authenticate: Bearer``.
    * Cookie-authenticated unsafe requests without a matching ``X-CSRF-Token``:
      403 ``csrf_failed``.

    The user id joins the request's log context (``user_id``).
    """
    user = await get_auth(request).authenticate_request(request)
    if user is None:
        raise NotAuthenticated("Authentication required.")
    return user


def require_same_origin(request: Request) -> None:
    """Refuse cross-site requests: 403 ``csrf_failed`` (a dependency).

    For the routes that set or clear session cookies, which have no CSRF token to
    check yet: ``dependencies=[Depends(require_same_origin)]`` on cookie login and
    logout. See [`CookieTransport.check_origin`][fastapi_kit.auth.CookieTransport.check_origin].
    """
    get_auth(request).cookie.check_origin(request)


#: The authenticated user: ``async def me(user: CurrentUser)``.
CurrentUser = Annotated[UserProtocol, Depends(get_current_user)]
#: The authenticated user, or ``None`` without credentials.
OptionalUser = Annotated[UserProtocol | None, Depends(get_optional_user)]
