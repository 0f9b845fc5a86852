"""Bench app: ``GET /todos``, a user's 20 todos read from SQLite, cached and not.

The kit's full stack (``Kit`` with auth and cache). The cache is in Redis when
``REDIS_URL`` is set (the harness starts a throwaway server), else in memory. Both
routes authenticate (bearer token, claims only) and run the same query; ``/todos``
is wrapped in ``@cached``.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from db_common import DATABASE_URL
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, SecretStr
from sqlalchemy import DateTime, String, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fastapi_kit import Kit, KitSettings
from fastapi_kit.auth import CurrentUser
from fastapi_kit.cache import cached
from fastapi_kit.db import Database, DbSession

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class Base(DeclarativeBase):
    """The bench models' base."""


class Todo(Base):
    """A todo row."""

    __tablename__ = "todos"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000))
    done: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TodoOut(BaseModel):
    """A todo as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    done: bool
    owner_id: int
    created_at: datetime
    updated_at: datetime


# REDIS_URL (set by the harness for the Redis contenders) moves the cache to Redis.
database = Database(DATABASE_URL)
settings = KitSettings(secret_key=SecretStr("bench-secret-0123456789-0123456789-abc"))
kit = Kit(settings, database=database)
auth = kit.use_auth(claims_only=True)
kit.use_cache()


async def create_todos() -> None:
    """Create the table and the user's 20 todos."""
    now = datetime.now(UTC)
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
        await connection.execute(
            insert(Todo),
            [
                {
                    "owner_id": 1,
                    "title": f"Todo {n}",
                    "description": "Something to do, described in a sentence or two.",
                    "done": n % 3 == 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(20)
            ],
        )


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Create the rows (the kit's lifespan has started the database)."""
    await create_todos()
    yield


app = kit.install(FastAPI(lifespan=lifespan))


async def user_todos(session: DbSession, owner_id: int) -> list[TodoOut]:
    """The query both routes run."""
    rows = await session.scalars(select(Todo).where(Todo.owner_id == owner_id).order_by(Todo.id))
    return [TodoOut.model_validate(row) for row in rows]


@app.get("/todos")
@cached(ttl=300, tags=["todos:{user_id}"])
async def list_todos(user: CurrentUser, session: DbSession) -> list[TodoOut]:
    """The user's todos, cached per user."""
    return await user_todos(session, int(user.id))


@app.get("/todos-miss")
@cached(ttl=300, tags=["todos:{user_id}"])
async def list_todos_missing(
    user: CurrentUser, session: DbSession, n: str | None = None
) -> list[TodoOut]:
    """``/todos`` for the miss scenario, with a new ``n`` every request.

    ``unique_query.lua`` sends the ``n``; only query parameters a route declares
    make new cache entries.
    """
    return await user_todos(session, int(user.id))


@app.get("/todos-uncached")
async def list_todos_uncached(user: CurrentUser, session: DbSession) -> list[TodoOut]:
    """The same, computed every time."""
    return await user_todos(session, int(user.id))


@app.get("/bench-token", response_class=PlainTextResponse)
async def bench_token() -> str:
    """A valid token for the load generator."""
    return auth.tokens.issue_pair("1", []).access_token
