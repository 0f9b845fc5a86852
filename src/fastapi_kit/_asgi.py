"""Small helpers over raw ASGI scopes, shared by the kit's middleware.

Nothing here is public API. The helpers work on the raw ``scope`` so that pure ASGI
middleware can use them without building a Starlette ``Request`` per call.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from fastapi_kit.context import RequestContext

if TYPE_CHECKING:
    from starlette.types import Scope


def get_header(scope: Scope, name: bytes) -> bytes | None:
    """Return the first value of the header ``name`` (lower-case bytes), or ``None``."""
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]  # ASGI header values are bytes
    return None


def scope_state(scope: Scope) -> dict[str, Any]:
    """Return the per-request state dict (``request.state``), creating it if needed."""
    return scope.setdefault("state", {})  # type: ignore[no-any-return]  # ASGI state is a dict


def new_request_id() -> str:
    """Return a fresh request id: 32 lower-case hex characters.

    Request ids need to be unique, not secret: 128 bits from ``random`` are as unique
    as a UUID4 and avoid a system call per request.
    """
    return f"{random.getrandbits(128):032x}"


def set_request_id(scope: Scope, request_id: str) -> None:
    """Give the request its id: in its context, and as ``request.state.request_id``."""
    RequestContext.of(scope).request_id = request_id
    scope_state(scope)["request_id"] = request_id  # documented for application code


def get_request_id(scope: Scope) -> str:
    """Return the request's id: the kit's, an app's ``request.state.request_id``, or a new one."""
    request_id = RequestContext.of(scope).request_id
    if request_id is None:
        found = scope_state(scope).get("request_id")
        request_id = found if isinstance(found, str) else new_request_id()
        set_request_id(scope, request_id)
    return request_id
