"""Key functions: whose budget a request counts against.

A key function takes the ``Request`` and returns a string (or awaits one). The
client address is the peer's, or the one a trusted proxy reported: the kit's proxy
middleware rewrites it only for ``TRUSTED_PROXIES``, so ``X-Forwarded-For`` from
anyone else changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import TypeAlias

from slowapi.util import get_remote_address
from starlette.requests import Request

from fastapi_kit._asgi import USER_ID_STATE_KEY, scope_state
from fastapi_kit.errors import APIError

__all__ = ("KeyFunc", "client_ip", "form_field", "user_id", "user_or_ip")

#: ``request -> key``, sync or async.
KeyFunc: TypeAlias = Callable[[Request], str | Awaitable[str]]


def client_ip(request: Request) -> str:
    """The client's address: ``ip:<address>`` (slowapi's ``get_remote_address``)."""
    return f"ip:{get_remote_address(request)}"


async def user_or_ip(request: Request) -> str:
    """The authenticated user (``user:<id>``), else the client's address.

    Authenticates the request if nothing has yet (the result is shared with
    ``CurrentUser``, so the token is read once). Credentials that do not
    authenticate count against the address; the route's own authentication still
    answers them with its 401.
    """
    state = scope_state(request.scope)
    if USER_ID_STATE_KEY not in state:
        from fastapi_kit.auth.dependencies import get_auth_or_none  # cycle

        auth = get_auth_or_none(request)
        if auth is not None:
            try:
                await auth.authenticate_request(request)
            except APIError:
                return client_ip(request)
    found = state.get(USER_ID_STATE_KEY)
    return client_ip(request) if found is None else f"user:{found}"


async def user_id(request: Request) -> str:
    """The authenticated user (``user:<id>``), for routes that require one.

    Authenticates the request if nothing has yet: without credentials it is a 401
    ``not_authenticated``, with bad ones a 401 ``invalid_token``, before any counting.
    """
    state = scope_state(request.scope)
    if USER_ID_STATE_KEY not in state:
        from fastapi_kit.auth.dependencies import get_current_user  # cycle

        await get_current_user(request, None)
    return f"user:{state[USER_ID_STATE_KEY]}"


def form_field(name: str = "username") -> Callable[[Request], Awaitable[str]]:
    """Key by a submitted form or JSON field, such as the account name of a login.

    The value is trimmed, lower-cased and hashed (no account names in Redis); a
    request without it gets the key of an empty value.
    """

    async def key(request: Request) -> str:
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                body = await request.json()
            except ValueError:
                body = None
            value = body.get(name) if isinstance(body, dict) else None
        else:
            value = (await request.form()).get(name)
        text = value.strip().lower() if isinstance(value, str) else ""
        return f"{name}:{hashlib.sha256(text.encode()).hexdigest()[:32]}"

    return key
