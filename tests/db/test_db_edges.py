"""Edge cases of the database block: in-memory SQLite, cancellation, dead connections."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from db.models import Owner, TestBase
from fastapi_kit import KitSettings
from fastapi_kit.db import (
    Database,
    DatabaseUnavailable,
    UTCDateTime,
    integrity_violation,
    translate_error,
)
from services import PostgresServer

MIGRATIONS = Path(__file__).parent / "migrations"


async def test_in_memory_sqlite_keeps_its_data_across_sessions() -> None:
    database = Database("sqlite+aiosqlite:///:memory:")
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(TestBase.metadata.create_all)
        async with database.transaction() as session:
            session.add(Owner(email="m@example.com"))
        async with database.transaction() as session:
            assert await session.scalar(select(func.count()).select_from(Owner)) == 1
    finally:
        await database.dispose()


def test_from_settings_needs_a_url() -> None:
    with pytest.raises(ValueError, match="DATABASE_URL"):
        Database.from_settings(KitSettings())


def test_repr_hides_the_password() -> None:
    database = Database("postgresql+asyncpg://kit:s3cret@db.internal/kit")
    assert "s3cret" not in repr(database)
    assert "db.internal" in repr(database)


async def test_a_cancelled_request_rolls_back(database: Database) -> None:
    flushed = asyncio.Event()

    async def slow_write() -> None:
        async with database.transaction() as session:
            session.add(Owner(email="cancelled@example.com"))
            await session.flush()
            flushed.set()
            await asyncio.Event().wait()  # the client went away meanwhile

    task = asyncio.create_task(slow_write())
    await flushed.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Owner)) == 0
    assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.postgres
async def test_an_error_on_a_dead_connection_is_still_reported(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    database = Database(postgres_url)

    async def fail_while_the_server_is_gone() -> None:
        async with database.transaction() as session:
            await session.execute(text("SELECT 1"))
            postgres_server.stop()  # the rollback will find the connection dead
            msg = "the endpoint's own error"
            raise ValueError(msg)

    try:
        with pytest.raises(ValueError, match="the endpoint's own error"):
            await fail_while_the_server_is_gone()
    finally:
        postgres_server.start()
        await database.dispose()


def test_translation_of_driver_errors() -> None:
    operational = OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    assert isinstance(translate_error(operational), DatabaseUnavailable)
    programming = ProgrammingError("SELECT x", {}, Exception('column "x" does not exist'))
    assert translate_error(programming) is None


def test_unrecognised_integrity_errors_are_generic_conflicts() -> None:
    error = IntegrityError("INSERT", {}, Exception("something else went wrong"))
    violation = integrity_violation(error)
    assert (violation.kind, violation.keys) == ("other", ())
    translated = translate_error(error)
    assert translated is not None
    assert translated.detail == "The request conflicts with the stored data."


def test_utc_datetime_passes_nulls_through() -> None:
    column_type = UTCDateTime()
    assert column_type.process_bind_param(None, None) is None
    assert column_type.process_result_value(None, None) is None


async def test_autogenerate_writes_migrations_that_do_not_import_the_kit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("0001_*", "__pycache__"))
    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.set_main_option("sqlalchemy.url", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    await asyncio.to_thread(command.revision, config, "initial", autogenerate=True, rev_id="a1")
    [script] = (scripts / "versions").glob("a1_*.py")
    code = script.read_text()
    assert "sa.DateTime(timezone=True)" in code
    assert "fastapi_kit" not in code
    assert "op.create_table('widgets'" in code


async def test_migrations_can_run_on_a_connection_the_caller_holds(db_url: str) -> None:
    database = Database(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))

    def upgrade(connection: object) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(upgrade)
        async with database.transaction() as session:
            version = await session.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await database.dispose()
    assert version == "0001"


def test_migrations_need_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with pytest.raises(RuntimeError, match="no database URL"):
        command.upgrade(config, "head")


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("postgresql://app:secret@db/app", "postgresql+asyncpg://"),
        ("postgres://app:secret@db/app", "postgresql+asyncpg://"),
        ("sqlite:///./app.db", "sqlite+aiosqlite://"),
    ],
)
def test_a_url_without_an_async_driver_is_refused_naming_it(url: str, hint: str) -> None:
    with pytest.raises(ValueError, match=re.escape(hint)) as caught:
        Database(url)
    assert "secret" not in str(caught.value)
