"""Alembic with the async engine: call ``run_migrations`` from your ``env.py``.

Your ``migrations/env.py`` becomes:

```python
from fastapi_kit.db.migrations import run_migrations
from myapp.models import Base

run_migrations(Base.metadata)
```

It reads the URL from ``DATABASE_URL`` (or ``sqlalchemy.url`` in ``alembic.ini``),
runs online migrations through the async driver, offline ones (``--sql``) as plain
SQL, uses batch mode on SQLite so column changes work there too, compares column
types, and renders the kit's ``UTCDateTime`` as ``sa.DateTime(timezone=True)`` so
that migrations never import the kit. Alembic must be installed
(``pip install alembic``).
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import make_url, pool
from sqlalchemy.ext.asyncio import create_async_engine

from fastapi_kit.db.database import require_async_driver
from fastapi_kit.db.models import UTCDateTime

if TYPE_CHECKING:
    from sqlalchemy import Connection, MetaData

__all__ = ("run_migrations",)


def run_migrations(target_metadata: MetaData, *, url: str | None = None) -> None:
    """Run the migrations Alembic asked for, against ``url``.

    Call it from ``env.py``. When the caller already holds a connection (Alembic's
    programmatic API with ``config.attributes["connection"]``, from inside a running
    event loop), that connection is used.

    Args:
        target_metadata: The models' metadata (what autogenerate compares with).
        url: The database URL; by default ``DATABASE_URL``, then ``sqlalchemy.url``.

    Raises:
        RuntimeError: No URL was given or configured.
    """
    from alembic import context  # only inside Alembic's env.py

    connection: Connection | None = context.config.attributes.get("connection")
    if connection is not None:
        _run_on(connection, target_metadata)
        return
    database_url = (
        url or os.environ.get("DATABASE_URL") or context.config.get_main_option("sqlalchemy.url")
    )
    if not database_url:
        msg = "no database URL: set DATABASE_URL or sqlalchemy.url in alembic.ini"
        raise RuntimeError(msg)
    if context.is_offline_mode():
        context.configure(
            url=database_url,
            target_metadata=target_metadata,
            literal_binds=True,
            dialect_opts={"paramstyle": "named"},
            render_as_batch=make_url(database_url).get_backend_name() == "sqlite",
            compare_type=True,
            render_item=_render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(database_url, target_metadata))


async def _run_online(url: str, target_metadata: MetaData) -> None:
    engine = create_async_engine(require_async_driver(url), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_on, target_metadata)
            await connection.commit()
    finally:
        await engine.dispose()


def _run_on(connection: Connection, target_metadata: MetaData) -> None:
    from alembic import context  # only inside Alembic's env.py

    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _render_item(kind: str, item: Any, _context: Any) -> str | Literal[False]:
    # Migrations should not import the kit: UTCDateTime is a timestamptz column.
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
