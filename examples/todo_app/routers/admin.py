"""``/admin``: every user's todos, and account changes. Role ``admin`` only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlalchemy import select

from fastapi_kit.accounts import UserRead
from fastapi_kit.auth import CurrentUser, require_role
from fastapi_kit.db import MAX_OFFSET, DbSession, Page, Pagination, paginate
from fastapi_kit.errors import Conflict, Forbidden, NotFound, problem_responses
from fastapi_kit.ratelimit import default_limit
from todo_app.accounts import count_active_admins, is_active_admin, lock_account_changes
from todo_app.dependencies import AuthDep
from todo_app.models import Todo, User
from todo_app.schemas import AdminUserUpdate, TodoOut

__all__ = ("router",)


#: The admin routes: role ``admin``, within the default rate limit.
router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(default_limit()), Depends(require_role("admin"))],
)


@router.get("/todos", summary="List every user's todos")
async def all_todos(session: DbSession, page: Pagination) -> Page[TodoOut]:
    """All todos, oldest first, a page at a time."""
    return await paginate(session, select(Todo).order_by(Todo.id), page)


@router.patch(
    "/users/{user_id}",
    summary="Change a user's roles or status",
    responses=problem_responses(NotFound, Conflict),
)
async def update_user(
    user_id: Annotated[int, Path(ge=1, le=MAX_OFFSET)],
    body: AdminUserUpdate,
    session: DbSession,
    auth: AuthDep,
    admin: CurrentUser,
) -> UserRead:
    """A role change or a deactivation ends the user's current sessions at once.

    The last active admin can be neither demoted nor deactivated (409).
    """
    await lock_account_changes(session)  # until the commit: one change at a time
    # The token said admin; a change that waited for the lock may have ended that.
    if not is_active_admin(await session.get(User, int(admin.id))):
        raise Forbidden("You are no longer an active admin.")
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found.")
    changes = body.model_dump(exclude_unset=True)
    if "roles" in changes:
        changes["roles"] = sorted(set(changes["roles"]))
    changed = {field: value for field, value in changes.items() if getattr(user, field) != value}
    if not changed:
        return UserRead.model_validate(user)
    was_admin = is_active_admin(user)
    stays_admin = changes.get("is_active", user.is_active) and "admin" in changes.get(
        "roles", user.roles
    )
    if was_admin and not stays_admin and not await count_active_admins(session, excluding=user.id):
        raise Conflict("This is the last active admin: promote another account first.")
    # Ends the sessions before the change and again once it is committed, so a
    # login that read the old roles meanwhile gets tokens that are refused.
    async with auth.revoking_user(str(user.id)):
        for field, value in changed.items():
            setattr(user, field, value)
        await session.commit()
    return UserRead.model_validate(user)
