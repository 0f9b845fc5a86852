"""The table both database bench apps read: one ``items`` row in a SQLite file."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import String, delete, insert
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

#: A fresh SQLite file per server process.
DATABASE_URL = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='kit-bench-')) / 'bench.db'}"


class Base(DeclarativeBase):
    """The bench models' base."""


class Item(Base):
    """The row the endpoint reads."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


async def create_item(engine: AsyncEngine) -> None:
    """Create the table and its one row."""
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
        await connection.execute(delete(Item))
        await connection.execute(insert(Item).values(id=1, name="widget"))
