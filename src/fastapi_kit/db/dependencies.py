"""``DbSession``: one session per request, committed before the response is sent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fastapi_kit.context import lifespan_service
from fastapi_kit.db.database import Database

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ("DbSession", "get_database", "get_db_session")


def get_database(request: Request) -> Database:
    """Return the app's [`Database`][fastapi_kit.db.Database], from the lifespan state.

    Raises:
        RuntimeError: No database was started with the app (a 500, logged).
    """
    database = lifespan_service(request.scope, Database)
    if database is None:
        msg = (
            "no Database in the lifespan state: set DATABASE_URL for Kit, or create the "
            "app with FastAPI(lifespan=database.lifespan)"
        )
        raise RuntimeError(msg)  # a set-up error, not a type check
    return database


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield the request's session, inside ``Database.transaction()``."""
    async with get_database(request).transaction() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_db_session, scope="function")]
"""The request's ``AsyncSession``.

Every dependency of a request that asks for it gets the same session; it is committed
after the endpoint returns and before the response is sent (so a failed commit is an
error response, never a false success), rolled back if anything raises, and closed.
"""
