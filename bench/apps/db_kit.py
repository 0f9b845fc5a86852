"""Bench app: read one row through the kit's ``DbSession`` (the database block only)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from db_common import DATABASE_URL, Item, create_item
from fastapi import FastAPI

from fastapi_kit.db import Database, DbSession
from fastapi_kit.errors import NotFound

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

database = Database(DATABASE_URL)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Database]]:
    """Create the row, then run the database's own lifespan."""
    await create_item(database.engine)
    async with database.lifespan(app) as state:
        yield state


app = FastAPI(lifespan=lifespan)


@app.get("/items/{item_id}")
async def read_item(item_id: int, session: DbSession) -> dict[str, int | str]:
    """Read one row."""
    item = await session.get(Item, item_id)
    if item is None:
        raise NotFound
    return {"id": item.id, "name": item.name}
