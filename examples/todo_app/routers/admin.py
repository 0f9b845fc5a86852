"""``/admin``: every user's todos, and account changes. Role ``admin`` only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Path
from sqlalchemy import select

from fastapi_kit.auth import require_role
from fastapi_kit.db import MAX_OFFSET, DbSession, Page, Pagination, paginate
from fastapi_kit.errors import NotFound, problem_responses
from todo_app.dependencies import AuthDep
from todo_app.models import Todo, User
from todo_app.schemas import AdminUserUpdate, TodoOut, UserOut

if TYPE_CHECKING:
    from fastapi_kit import Kit

__all__ = ("admin_router",)


def admin_router(kit: Kit) -> APIRouter:
    """The admin routes: role ``admin``, within the default rate limit."""
    router = APIRouter(
        prefix="/admin",
        tags=["admin"],
        dependencies=[Depends(kit.default_rate_limit), Depends(require_role("admin"))],
    )

    @router.get("/todos", summary="List every user's todos")
    async def all_todos(session: DbSession, page: Pagination) -> Page[TodoOut]:
        """All todos, oldest first, a page at a time."""
        return await paginate(session, select(Todo).order_by(Todo.id), page)

    @router.patch(
        "/users/{user_id}",
        summary="Change a user's roles or status",
        responses=problem_responses(NotFound),
    )
    async def update_user(
        user_id: Annotated[int, Path(ge=1, le=MAX_OFFSET)],
        body: AdminUserUpdate,
        session: DbSession,
        auth: AuthDep,
    ) -> UserOut:
        """A role change or a deactivation ends the user's current sessions at once."""
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound(f"User {user_id} not found.")
        changes = body.model_dump(exclude_unset=True)
        if "roles" in changes:
            changes["roles"] = sorted(set(changes["roles"]))
        changed = {
            field: value for field, value in changes.items() if getattr(user, field) != value
        }
        if changed:
            # Revoke first: if that fails (503), the transaction rolls back too.
            await auth.revoke_user(str(user.id))
            for field, value in changed.items():
                setattr(user, field, value)
            await session.flush()
        return UserOut.model_validate(user)

    return router
