"""DbSession and Database.transaction on SQLite and PostgreSQL: one unit of work per request."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select, text

from db.app import make_app
from db.models import Owner, Widget
from fastapi_kit.db import Database, DatabaseUnavailable, DbSession, UTCDateTime
from fastapi_kit.errors import NotFound, install_error_handlers
from fastapi_kit.testing import app_client
from helpers import LogCapture


async def owner_count(database: Database) -> int:
    async with database.transaction() as session:
        return (await session.scalar(select(func.count()).select_from(Owner))) or 0


async def test_work_is_committed_when_the_endpoint_returns(database: Database) -> None:
    async with app_client(make_app(database)) as client:
        response = await client.post("/owners", json={"email": "a@example.com"})
    assert response.status_code == 201
    async with database.transaction() as session:
        owner = await session.get(Owner, response.json()["id"])
    assert owner is not None
    assert owner.email == "a@example.com"


@pytest.mark.parametrize(
    ("path", "status"), [("/owners/then-404", 404), ("/owners/then-crash", 500)]
)
async def test_work_is_rolled_back_when_anything_raises(
    database: Database, path: str, status: int
) -> None:
    async with app_client(make_app(database)) as client:
        response = await client.post(path, json={"email": "gone@example.com"})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert await owner_count(database) == 0


async def test_dependencies_of_one_request_share_the_session(database: Database) -> None:
    async with app_client(make_app(database)) as client:
        response = await client.get("/shared")
    assert response.json() == {"same": True}


async def test_a_failed_commit_is_an_error_response_not_a_success(database: Database) -> None:
    async with app_client(make_app(database)) as client:
        first = await client.post("/owners/unflushed", json={"email": "twice@example.com"})
        second = await client.post("/owners/unflushed", json={"email": "twice@example.com"})
    assert first.status_code == 201
    # The duplicate is only found by the INSERT at commit: before the response is sent.
    assert second.status_code == 409
    assert await owner_count(database) == 1


async def test_transaction_commits_and_rolls_back_outside_requests(database: Database) -> None:
    async with database.transaction() as session:
        session.add(Owner(email="script@example.com"))

    async def add_then_fail() -> None:
        async with database.transaction() as session:
            session.add(Owner(email="undone@example.com"))
            await session.flush()
            raise NotFound

    with pytest.raises(NotFound):
        await add_then_fail()
    async with database.transaction() as session:
        emails = (await session.scalars(select(Owner.email))).all()
    assert emails == ["script@example.com"]


async def test_sessions_are_closed_and_connections_returned(database: Database) -> None:
    async with app_client(make_app(database)) as client:
        for path in ("/owners", "/owners/then-404", "/owners/then-crash", "/owners/unflushed"):
            await client.post(path, json={"email": "x@example.com"})
        await client.get("/shared")
    assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_an_unused_session_takes_no_connection(database: Database) -> None:
    checkouts: list[object] = []
    event.listen(database.engine.sync_engine, "checkout", lambda *args: checkouts.append(args))
    async with database.transaction():
        pass  # an endpoint answered from a cache, say
    assert checkouts == []
    async with database.transaction() as session:
        await session.execute(text("SELECT 1"))
    assert len(checkouts) == 1


async def test_work_after_a_commit_inside_the_block_is_committed_too(database: Database) -> None:
    async with database.transaction() as session:
        session.add(Owner(email="first@example.com"))
        await session.commit()
        session.add(Owner(email="second@example.com"))
    assert await owner_count(database) == 2
    async with database.transaction() as session:
        session.add(Owner(email="third@example.com"))
        await session.commit()  # nothing left for the block to commit
    assert await owner_count(database) == 3


async def test_objects_stay_readable_after_commit(database: Database) -> None:
    async with database.transaction() as session:
        owner = Owner(email="kept@example.com")
        session.add(owner)
    assert owner.email == "kept@example.com"  # no lazy load after commit
    assert owner.id is not None


async def test_timestamps_are_set_and_updated_in_utc(database: Database) -> None:
    async with database.transaction() as session:
        owner = Owner(email="t@example.com")
        session.add(owner)
        await session.flush()
        widget = Widget(name="w", owner_id=owner.id)
        session.add(widget)
    created, updated = widget.created_at, widget.updated_at
    assert created.utcoffset() is not None
    assert created.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    async with database.transaction() as session:
        stored = await session.get(Widget, widget.id)
        assert stored is not None
        assert stored.created_at == created  # read back aware, same instant
        stored.quantity = 5
    async with database.transaction() as session:
        reread = await session.get(Widget, widget.id)
    assert reread is not None
    assert reread.created_at == created
    assert reread.updated_at > updated


def test_naive_datetimes_are_refused() -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="naive datetime"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), None)


async def test_without_a_database_in_the_lifespan_requests_get_a_500(logs: LogCapture) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/needs-db")
    async def needs_db(session: DbSession) -> None:
        return None

    async with app_client(app) as client:
        response = await client.get("/needs-db")
    assert response.status_code == 500
    assert "no Database in the lifespan state" in logs.named("unhandled_exception")[0]["exception"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_sqlite_connections_are_configured_for_concurrency(database: Database) -> None:
    async with database.engine.connect() as connection:
        journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
        foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
        busy = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
    assert (journal, foreign_keys, busy) == ("wal", 1, 5000)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_100_concurrent_writes_on_sqlite_lose_nothing(database: Database) -> None:
    async with app_client(make_app(database)) as client:
        responses = await asyncio.gather(
            *(client.post("/owners", json={"email": f"u{n}@example.com"}) for n in range(100))
        )
    assert sorted({response.status_code for response in responses}) == [201]
    assert await owner_count(database) == 100


async def test_connect_failure_is_database_unavailable(tmp_path: object) -> None:
    database = Database("postgresql+asyncpg://kit@127.0.0.1:9/nowhere")  # port 9: discard
    try:
        with pytest.raises(DatabaseUnavailable):
            await database.ping()
    finally:
        await database.dispose()
