"""Bench app: the hand-written session dependency of FastAPI's docs, with ``yield``.

It commits after the endpoint, before the response is sent, as ``DbSession`` does, so
it prices FastAPI's machinery for dependencies with ``yield`` on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from db_bare import lifespan, sessionmaker
from db_common import Item
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


async def get_session() -> AsyncIterator[AsyncSession]:
    """One session per request, committed after the endpoint returns."""
    async with sessionmaker() as session:
        yield session
        await session.commit()


Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
app = FastAPI(lifespan=lifespan)


@app.get("/items/{item_id}")
async def read_item(item_id: int, session: Session) -> dict[str, int | str]:
    """Read one row."""
    item = await session.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404)
    return {"id": item.id, "name": item.name}
