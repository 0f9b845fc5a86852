"""``/todos``: a user's own todos. Someone else's todo is a 404, never a 403."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import select

from fastapi_kit.auth import CurrentUser, require_role
from fastapi_kit.cache import cached, conditional, invalidate
from fastapi_kit.db import MAX_OFFSET, DbSession, Page, Pagination, paginate
from fastapi_kit.errors import NotFound, problem_responses
from fastapi_kit.ratelimit import default_limit
from todo_app.models import Todo
from todo_app.schemas import TodoCreate, TodoOut, TodoUpdate

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fastapi_kit.auth import UserProtocol

__all__ = ("router",)

TodoId = Annotated[int, Path(ge=1, le=MAX_OFFSET, description="The todo's id.")]
_NOT_FOUND = problem_responses(NotFound)


def user_tag(user: UserProtocol) -> str:
    """The cache tag of everything cached from a user's todos."""
    return f"todos:{user.id}"


async def owned_todo(session: AsyncSession, todo_id: int, user: UserProtocol) -> Todo:
    """The user's todo ``todo_id``; a 404 when it does not exist or is someone else's."""
    todo = await session.get(Todo, todo_id)
    if todo is None or todo.owner_id != int(user.id):
        raise NotFound(f"Todo {todo_id} not found.")
    return todo


#: The todo routes: role ``user`` (admins have it too), within the default rate limit.
router = APIRouter(
    prefix="/todos",
    tags=["todos"],
    dependencies=[Depends(default_limit()), Depends(require_role("user"))],
)


# --8<-- [start:routes]
@router.get("", summary="List your todos")
@cached(tags=["todos:{user_id}"])  # per user; every write of the user invalidates it
async def list_todos(
    user: CurrentUser,
    session: DbSession,
    page: Pagination,
    done: Annotated[bool | None, Query(description="Only done, or only open, todos.")] = None,
) -> Page[TodoOut]:
    """Your todos, oldest first, a page at a time (``X-Cache`` says HIT or MISS)."""
    statement = select(Todo).where(Todo.owner_id == int(user.id)).order_by(Todo.id)
    if done is not None:
        statement = statement.where(Todo.done == done)
    return await paginate(session, statement, page)


@router.post("", status_code=201, summary="Create a todo")
async def create_todo(
    body: TodoCreate,
    user: CurrentUser,
    session: DbSession,
    request: Request,
    response: Response,
) -> TodoOut:
    """The new todo; ``Location`` is its URL."""
    todo = Todo(owner_id=int(user.id), **body.model_dump())
    session.add(todo)
    await session.flush()
    await invalidate(request, [user_tag(user)])
    response.headers["Location"] = request.app.url_path_for("get_todo", todo_id=todo.id)
    return TodoOut.model_validate(todo)


@router.get("/{todo_id}", summary="Read a todo", responses=_NOT_FOUND)
@conditional  # ETag; If-None-Match -> 304
async def get_todo(todo_id: TodoId, user: CurrentUser, session: DbSession) -> TodoOut:
    """One of your todos, with its ``ETag``."""
    return TodoOut.model_validate(await owned_todo(session, todo_id, user))


@router.patch("/{todo_id}", summary="Change a todo", responses=_NOT_FOUND)
async def update_todo(
    todo_id: TodoId, body: TodoUpdate, user: CurrentUser, session: DbSession, request: Request
) -> TodoOut:
    """Only the fields sent change."""
    todo = await owned_todo(session, todo_id, user)
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(todo, field, value)
    await session.flush()
    await invalidate(request, [user_tag(user)])
    return TodoOut.model_validate(todo)


@router.delete("/{todo_id}", status_code=204, summary="Delete a todo", responses=_NOT_FOUND)
async def delete_todo(
    todo_id: TodoId, user: CurrentUser, session: DbSession, request: Request
) -> None:
    """Gone for good."""
    await session.delete(await owned_todo(session, todo_id, user))
    await session.flush()
    await invalidate(request, [user_tag(user)])


# --8<-- [end:routes]
