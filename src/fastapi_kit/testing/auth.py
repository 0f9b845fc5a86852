"""Authentication helpers for tests: a fixed current user, and ready-made tokens."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from fastapi_kit.auth.dependencies import get_current_user, get_optional_user
from fastapi_kit.auth.users import TokenUser
from fastapi_kit.errors import NotAuthenticated

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator

    from fastapi import FastAPI

    from fastapi_kit.auth import Auth, UserProtocol

__all__ = ("auth_headers", "override_current_user", "token_user")


@contextmanager
def override_current_user(app: FastAPI, user: UserProtocol | None) -> Iterator[None]:
    """Make every request of ``app`` authenticated as ``user`` inside the block.

    ``CurrentUser``, ``OptionalUser``, ``require_role`` and ``require_permission``
    all see ``user`` (``None``: every request is anonymous, so protected routes
    answer 401). The app's previous override, if any, comes back on exit.

    For example:

    ```python
    with override_current_user(app, TokenUser(id="1", roles=frozenset({"admin"}))):
        response = await client.get("/admin/stats")
    ```
    """
    overrides = app.dependency_overrides
    missing = object()
    previous = {key: overrides.get(key, missing) for key in (get_current_user, get_optional_user)}

    async def optional_user() -> UserProtocol | None:
        return user

    async def current_user() -> UserProtocol:
        if user is None:
            raise NotAuthenticated("Authentication required.")
        return user

    overrides[get_optional_user] = optional_user
    overrides[get_current_user] = current_user
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is missing:
                del overrides[key]
            else:
                overrides[key] = value  # type: ignore[assignment]


def auth_headers(
    auth: Auth, subject: str = "1", roles: Collection[str] = ("user",)
) -> dict[str, str]:
    """An ``Authorization`` header with a fresh, real access token from ``auth``.

    The token goes through the whole check (signature, claims, revocation, the user
    loader), so the loader must know ``subject`` unless ``auth`` is claims-only.
    """
    pair = auth.tokens.issue_pair(subject, roles)
    return {"Authorization": f"Bearer {pair.access_token}"}


def token_user(user_id: str = "1", roles: Collection[str] = ("user",)) -> TokenUser:
    """A user for ``override_current_user``: ``TokenUser(id, frozenset(roles))``."""
    return TokenUser(id=user_id, roles=frozenset(roles))
