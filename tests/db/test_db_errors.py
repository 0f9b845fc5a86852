"""Integrity errors become 409s, outages and lock waits 503s; nothing from the driver leaks."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from db.app import make_app
from db.models import Owner, TestBase
from fastapi_kit.db import (
    Database,
    DatabaseBusy,
    DatabaseConfig,
    DatabaseUnavailable,
    DbSession,
    translate_error,
)
from fastapi_kit.errors import Conflict
from fastapi_kit.testing import app_client
from helpers import LogCapture


def assert_conflict(response: object, detail: str) -> None:
    assert response.status_code == 409  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["code"] == "conflict"
    assert body["detail"] == detail
    for leak in ("INSERT", "uq_owners", "owners.", "asyncpg", "sqlite", "Key (", "@example.com"):
        assert leak not in response.text  # type: ignore[attr-defined]


async def test_unique_violation_is_a_409_without_driver_text(database: Database) -> None:
    async with app_client(make_app(database)) as client:
        await client.post("/owners", json={"email": "dup@example.com"})
        response = await client.post("/owners", json={"email": "dup@example.com"})
    assert_conflict(response, "A record with the same unique values already exists.")


@pytest.mark.parametrize(
    ("db_url", "key"),
    [
        # SQLite names the columns, not the constraint: table.column works everywhere.
        ("sqlite", "owners.email"),
        ("postgres", "owners.email"),
        ("postgres", "uq_owners_email"),
    ],
    indirect=["db_url"],
)
async def test_apps_choose_the_message_per_constraint(db_url: str, key: str) -> None:
    database = Database(db_url, conflict_messages={key: "That email is already registered."})
    async with database.engine.begin() as connection:
        await connection.run_sync(TestBase.metadata.create_all)
    try:
        async with app_client(make_app(database)) as client:
            await client.post("/owners", json={"email": "dup@example.com"})
            response = await client.post("/owners", json={"email": "dup@example.com"})
    finally:
        await database.dispose()
    assert_conflict(response, "That email is already registered.")


async def test_foreign_key_and_check_violations_are_409s(database: Database) -> None:
    async with app_client(make_app(database)) as client:
        orphan = await client.post("/widgets", json={"name": "w", "owner_id": 999})
        owner = await client.post("/owners", json={"email": "o@example.com"})
        negative = await client.post(
            "/widgets", json={"name": "w", "owner_id": owner.json()["id"], "quantity": -1}
        )
    assert_conflict(
        orphan, "A referenced record does not exist, or this record is still referenced."
    )
    assert_conflict(negative, "The values break a rule of the database.")


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_postgres_violations_are_described_fully(database: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    from fastapi_kit.db import integrity_violation

    async with database.transaction() as session:
        session.add(Owner(email="a@example.com"))
    with pytest.raises(Conflict) as caught:
        async with database.transaction() as session:
            session.add(Owner(email="a@example.com"))
    cause = caught.value.__cause__
    assert isinstance(cause, IntegrityError)
    violation = integrity_violation(cause)
    assert violation.kind == "unique"
    assert violation.constraint == "uq_owners_email"
    assert violation.table == "owners"
    assert violation.columns == ("email",)
    assert violation.keys == ("uq_owners_email", "owners.email")


async def test_sqlite_lock_wait_exhausted_is_busy_not_500(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'locked.db'}"
    holder = Database(url)
    waiter = Database(url, DatabaseConfig(sqlite_busy_timeout=0))
    try:
        async with holder.engine.begin() as connection:
            await connection.run_sync(TestBase.metadata.create_all)
        async with holder.engine.connect() as locking:
            await locking.execute(text("BEGIN IMMEDIATE"))  # takes the write lock
            with pytest.raises(DatabaseBusy) as caught:
                async with waiter.transaction() as session:
                    session.add(Owner(email="w@example.com"))
            await locking.rollback()
    finally:
        await holder.dispose()
        await waiter.dispose()
    assert caught.value.status_code == 503
    assert caught.value.headers["Retry-After"] == "1"


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_values_the_database_refuses_are_422s(database: Database) -> None:
    async with app_client(make_app(database)) as client:
        owner = (await client.post("/owners", json={"email": "o@example.com"})).json()["id"]
        refused = [
            await client.post("/owners", json={"email": "nul\u0000@example.com"}),
            await client.post("/owners", json={"email": "x" * 400}),  # String(320)
            await client.post(
                "/widgets", json={"name": "w", "owner_id": owner, "quantity": 2**40}
            ),  # INTEGER
        ]
        count = (await client.get("/count")).json()
    for response in refused:
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "validation_error"
        for leak in ("INSERT", "asyncpg", "0x00", "owners.", "character varying"):
            assert leak not in response.text
    assert count == {"owners": 1}
    with pytest.raises(DBAPIError):  # class 22 too, but the app's own bug: stays a 500
        async with database.transaction() as session:
            await session.execute(text("SELECT 1 / 0"))


async def test_logged_database_errors_never_show_parameters(database: Database) -> None:
    logs = LogCapture()
    app = make_app(database)
    value = "-".join(("hash", "of", "a", "password"))  # not in the traceback's source lines

    @app.get("/broken")
    async def broken(session: DbSession) -> None:
        await session.execute(text("SELECT * FROM no_such_table WHERE x = :x"), {"x": value})

    async with app_client(app) as client:
        response = await client.get("/broken")
    assert response.status_code == 500
    assert "no_such_table" in logs.text  # the error is logged...
    assert value not in logs.text  # ...without the values bound to it
    assert value not in response.text
    assert (
        Database(database.url, DatabaseConfig(echo=True)).engine.sync_engine.hide_parameters
        is False
    )


def test_pool_timeout_is_busy() -> None:
    translated = translate_error(PoolTimeout("QueuePool limit of size 5 overflow 0 reached"))
    assert isinstance(translated, DatabaseBusy)


def test_other_errors_are_left_alone() -> None:
    assert translate_error(ValueError("not a database error")) is None


async def test_sql_mistakes_are_500s_not_outages(database: Database) -> None:
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError):
        async with database.transaction() as session:
            await session.execute(text("SELECT * FROM no_such_table"))


async def test_unreachable_server_is_unavailable_at_once() -> None:
    database = Database("postgresql+asyncpg://kit@127.0.0.1:9/none", DatabaseConfig())
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            async with database.transaction() as session:
                await session.execute(text("SELECT 1"))
    finally:
        await database.dispose()
    assert caught.value.headers["Retry-After"] == "5"
    assert isinstance(caught.value.__cause__, OSError)
