"""``/users``: the authenticated user's own account."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from fastapi_kit.auth import CurrentUser
from fastapi_kit.db import DbSession
from fastapi_kit.errors import InvalidToken
from fastapi_kit.ratelimit import default_limit
from todo_app.models import User
from todo_app.schemas import UserOut

__all__ = ("router",)


#: The account routes, within the default rate limit.
router = APIRouter(prefix="/users", tags=["users"], dependencies=[Depends(default_limit())])


@router.get("/me", summary="The authenticated user")
async def me(user: CurrentUser, session: DbSession) -> UserOut:
    """The account the token or session cookie belongs to."""
    account = await session.get(User, int(user.id))
    if account is None:  # deleted behind the token's back
        raise InvalidToken("The account no longer exists.")
    return UserOut.model_validate(account)
