"""Revision 0002 (the account columns) on databases holding 0001's users and todos.

On SQLite (a file) and on PostgreSQL: every account and todo survives the upgrade, the
email keys are filled, the new columns get their defaults, the downgrade and a new
upgrade work, look-alike addresses stop the upgrade before any change, and the schema
equals what ``UserMixin`` declares.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import ForeignKey, String
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fastapi_kit.accounts import UserMixin
from fastapi_kit.accounts.emails import email_key
from fastapi_kit.db import NAMING_CONVENTION, TimestampMixin
from todo_app.migrations import alembic_config, upgrade

T = TypeVar("T")

CREATED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
UPDATED = datetime(2025, 6, 7, 8, 9, 10, tzinfo=UTC)

users = sa.table(
    "users",
    sa.column("id", sa.Integer()),
    sa.column("email", sa.String()),
    sa.column("password_hash", sa.String()),
    sa.column("roles", sa.JSON()),
    sa.column("is_active", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
account_columns = sa.table(
    "users",
    sa.column("id", sa.Integer()),
    sa.column("email", sa.String()),
    sa.column("email_key", sa.String()),
    sa.column("is_verified", sa.Boolean()),
    sa.column("totp_secret", sa.String()),
    sa.column("mfa_enabled", sa.Boolean()),
    sa.column("recovery_codes", sa.JSON()),
)
todos = sa.table(
    "todos",
    sa.column("id", sa.Integer()),
    sa.column("owner_id", sa.Integer()),
    sa.column("title", sa.String()),
    sa.column("description", sa.String()),
    sa.column("done", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty database at revision 0001: a SQLite file, or a new PostgreSQL database."""
    monkeypatch.delenv("DATABASE_URL", raising=False)  # env.py would prefer it
    if request.param == "sqlite":
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'todo.db'}"
    else:
        database_url = request.getfixturevalue("postgres_url")
    assert upgrade(database_url, "0001") == "0001"
    return database_url


def run(url: str, work: Callable[[sa.Connection], T], *, foreign_keys: bool = False) -> T:
    """``work(connection)`` in one committed transaction on ``url``."""

    async def main() -> T:
        engine = create_async_engine(url, poolclass=sa.NullPool)
        try:
            async with engine.begin() as connection:
                if foreign_keys and connection.dialect.name == "sqlite":
                    await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def user(user_id: int, email: str, **values: Any) -> dict[str, Any]:
    row = {
        "id": user_id,
        "email": email,
        "password_hash": f"$argon2id$hash-of-{user_id}",
        "roles": ["user"],
        "is_active": True,
        "created_at": CREATED,
        "updated_at": UPDATED,
    }
    return row | values


def todo(todo_id: int, owner_id: int, **values: Any) -> dict[str, Any]:
    row = {
        "id": todo_id,
        "owner_id": owner_id,
        "title": f"todo {todo_id}",
        "description": "",
        "done": False,
        "created_at": CREATED,
        "updated_at": UPDATED,
    }
    return row | values


def insert(url: str, user_rows: list[dict[str, Any]], todo_rows: list[dict[str, Any]]) -> None:
    def work(connection: sa.Connection) -> None:
        connection.execute(users.insert(), user_rows)
        if todo_rows:
            connection.execute(todos.insert(), todo_rows)

    run(url, work)


def snapshot(url: str) -> tuple[Sequence[sa.Row[Any]], Sequence[sa.Row[Any]]]:
    """Every value 0001 stores, users and todos, in id order."""
    return run(
        url,
        lambda connection: (
            connection.execute(sa.select(users).order_by(users.c.id)).all(),
            connection.execute(sa.select(todos).order_by(todos.c.id)).all(),
        ),
    )


def user_columns(url: str) -> set[str]:
    return run(url, lambda c: {column["name"] for column in sa.inspect(c).get_columns("users")})


def current(url: str) -> str | None:
    return run(url, lambda c: MigrationContext.configure(c).get_current_revision())


# Addresses as 0001 may hold them: mixed case (stored before addresses were lower-cased),
# non-ASCII, and enough accounts for the keys to be read and written in several batches.
NAMED = [
    user(7, "Alice.Smith@Example.COM", roles=["user", "admin"]),
    user(8, "zoë@bücher.example", is_active=False),
    user(42, "bob@example.org"),
]
MANY = [user(100 + n, f"member{n}@example.net") for n in range(2_100)]
TODOS = [
    todo(1, 7, title="Alice's", description="with a description", done=True),
    todo(2, 7),
    todo(3, 8, title="Zoë's"),
    todo(5, 42),
    todo(6, 100),
]


def test_upgrade_keeps_users_and_todos_and_fills_the_new_columns(url: str) -> None:
    insert(url, NAMED + MANY, TODOS)
    before = snapshot(url)

    assert upgrade(url) == "0002"

    assert snapshot(url) == before
    rows = run(
        url, lambda c: c.execute(sa.select(account_columns).order_by(account_columns.c.id)).all()
    )
    assert len(rows) == len(NAMED) + len(MANY)
    for row in rows:
        assert row.email_key == email_key(row.email)
        assert (row.is_verified, row.totp_secret, row.mfa_enabled) == (False, None, False)
        assert row.recovery_codes == []
    keys = {row.id: row.email_key for row in rows}
    assert keys[7] == email_key("alice.smith@example.com") != "Alice.Smith@Example.COM"
    assert keys[8] == email_key("ZOË@BÜCHER.EXAMPLE")

    # The todos still belong to their owners: deleting an account deletes its todos.
    def delete_alice(connection: sa.Connection) -> list[int]:
        connection.execute(users.delete().where(users.c.id == 7))
        return list(connection.execute(sa.select(todos.c.id).order_by(todos.c.id)).scalars())

    assert run(url, delete_alice, foreign_keys=True) == [3, 5, 6]


def test_new_rows_get_the_server_defaults_and_keys_stay_unique(url: str) -> None:
    insert(url, NAMED, [])
    upgrade(url)

    def add(connection: sa.Connection) -> sa.Row[Any]:
        connection.execute(
            sa.text(
                "INSERT INTO users (id, email, email_key, password_hash, roles, is_active) "
                "VALUES (50, 'new@example.com', 'new@exarnple.corn', 'h', '[]', true)"
            )
        )
        return connection.execute(
            sa.select(account_columns).where(account_columns.c.id == 50)
        ).one()

    row = run(url, add)
    assert (row.is_verified, row.totp_secret, row.mfa_enabled, row.recovery_codes) == (
        False,
        None,
        False,
        [],
    )
    with pytest.raises(sa.exc.IntegrityError, match="email_key"):
        run(
            url,
            lambda c: c.execute(
                account_columns.insert().values(email="other@example.com", email_key=row.email_key)
            ),
        )
    with pytest.raises(sa.exc.IntegrityError, match="email_key"):
        run(url, lambda c: c.execute(users.insert(), [user(51, "null-key@example.com")]))


def test_downgrade_and_upgrade_again(url: str) -> None:
    insert(url, NAMED, TODOS[:4])
    before = snapshot(url)
    upgrade(url)

    command.downgrade(alembic_config(url), "0001")

    assert current(url) == "0001"
    assert snapshot(url) == before
    new = {"email_key", "is_verified", "totp_secret", "mfa_enabled", "recovery_codes"}
    assert not user_columns(url) & new
    assert upgrade(url) == "0002"
    assert snapshot(url) == before
    assert new <= user_columns(url)
    keys = run(
        url,
        lambda c: dict(
            c.execute(sa.select(account_columns.c.id, account_columns.c.email_key)).all()
        ),
    )
    assert keys == {row["id"]: email_key(row["email"]) for row in NAMED}


def test_look_alike_addresses_stop_the_upgrade_naming_the_accounts(url: str) -> None:
    # One key for "mary", "rnary" ("rn" looks like "m") and "MARY" (case), all three
    # accepted by 0001's unique email column; alice's is on its own.
    accounts = [
        user(1, "mary@example.com"),
        user(2, "rnary@example.com"),
        user(3, "alice@example.com"),
        user(4, "MARY@example.com"),
    ]
    insert(url, accounts, [todo(1, 2)])
    before = snapshot(url)

    with pytest.raises(RuntimeError, match=r"look alike \(one key\), by id: 1, 2, 4\.") as error:
        upgrade(url)

    assert "nothing was changed" in str(error.value)
    assert "3" not in str(error.value).split("by id:")[1]
    assert current(url) == "0001"
    assert "email_key" not in user_columns(url)
    assert snapshot(url) == before
    # The operator keeps one account of the group; the upgrade then goes through.
    run(url, lambda c: c.execute(users.delete().where(users.c.id.in_([2, 4]))))
    assert upgrade(url) == "0002"


def test_an_invalid_stored_address_stops_the_upgrade(url: str) -> None:
    insert(url, [user(1, "alice@example.com"), user(9, "not-an-address")], [])

    with pytest.raises(RuntimeError, match=r"address is not valid, by id: 9\."):
        upgrade(url)

    assert current(url) == "0001"
    assert "email_key" not in user_columns(url)


def test_sqlite_with_foreign_keys_on_is_refused_before_todos_are_lost(tmp_path: Path) -> None:
    # A connection handed to Alembic with foreign keys on: rebuilding users (drop the
    # old table) would delete every todo through ON DELETE CASCADE.
    path = tmp_path / "todo.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0001")
    insert(url, NAMED, TODOS[:4])
    before = snapshot(url)
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            config = alembic_config(url)
            config.attributes["connection"] = connection
            with pytest.raises(RuntimeError, match="PRAGMA foreign_keys is on"):
                command.upgrade(config, "head")
    finally:
        engine.dispose()

    assert snapshot(url) == before
    assert current(url) == "0001"


def test_offline_mode_is_refused() -> None:
    config = alembic_config("postgresql+asyncpg://kit@localhost/kit")
    with pytest.raises(RuntimeError, match="run it online"):
        command.upgrade(config, "0001:0002", sql=True)


def json_defaults_as_text(
    _context: MigrationContext,
    _inspected_column: sa.Column[Any],
    metadata_column: sa.Column[Any],
    inspected_default: str | None,
    _metadata_default: Any,
    rendered_metadata_default: str | None,
) -> bool | None:
    """Whether the server defaults differ; Alembic's own comparison for all but JSON.

    Alembic compares defaults by asking the database, and PostgreSQL has no ``=`` for
    ``json``: the defaults of JSON columns are compared as text (``'[]'::json``, ``[]``).
    """
    if not isinstance(metadata_column.type, sa.JSON):
        return None
    inspected, declared = (
        default.removesuffix("::json").strip("'") if default is not None else None
        for default in (inspected_default, rendered_metadata_default)
    )
    return inspected != declared


class _Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class _User(UserMixin, _Base):
    __tablename__ = "users"


class _Todo(TimestampMixin, _Base):
    __tablename__ = "todos"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    done: Mapped[bool] = mapped_column(default=False)


def test_the_schema_is_what_user_mixin_declares(url: str) -> None:
    # What `alembic check` compares (env.py: compare_type), for the example app's models
    # with `class User(UserMixin, Base)`, plus the server defaults.
    upgrade(url)

    def diffs(connection: sa.Connection) -> list[Any]:
        options = {"compare_type": True, "compare_server_default": json_defaults_as_text}
        found: list[Any] = compare_metadata(
            MigrationContext.configure(connection, opts=options), _Base.metadata
        )
        return found

    assert run(url, diffs) == []


def test_the_app_models_match_the_migrations(url: str) -> None:
    upgrade(url)

    command.check(alembic_config(url))  # raises when autogenerate finds drift
