"""Bench app: read one row with a plain ``async_sessionmaker``, written by hand.

It sets up its SQLite connections as the kit does (WAL, foreign keys, a busy timeout:
what concurrent writers need), so the comparison prices ``DbSession`` itself.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from db_common import DATABASE_URL, Item, create_item
from fastapi import FastAPI, HTTPException
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

engine = create_async_engine(DATABASE_URL)
sessionmaker = async_sessionmaker(engine, expire_on_commit=False)


@event.listens_for(engine.sync_engine, "connect")
def configure(connection: Any, _record: Any) -> None:
    """Set the connection up like the kit does."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Create the row; dispose of the pool at shutdown."""
    await create_item(engine)
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict[str, int | str]:
    """Read one row."""
    async with sessionmaker() as session:
        item = await session.get(Item, item_id)
        if item is None:
            raise HTTPException(status_code=404)
        return {"id": item.id, "name": item.name}
