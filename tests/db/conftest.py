"""Fixtures running the database suite on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.models import TestBase
from fastapi_kit.db import Database, DatabaseConfig


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    """A ``Database`` on ``db_url`` with the test tables created."""
    database = Database(db_url, DatabaseConfig(pool_timeout=2))
    async with database.engine.begin() as connection:
        await connection.run_sync(TestBase.metadata.create_all)
    yield database
    await database.dispose()
