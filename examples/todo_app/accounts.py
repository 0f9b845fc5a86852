"""Account storage: finding users for logins, and ensuring the configured admin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from fastapi_kit.auth import hash_password
from todo_app.models import User

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fastapi_kit.db import Database

__all__ = ("ensure_admin", "find_by_email", "normalize_email")


def normalize_email(email: str) -> str:
    """The stored form of an address: trimmed and lower-cased (one account per address)."""
    return email.strip().lower()


async def find_by_email(session: AsyncSession, email: str) -> User | None:
    """The account of ``email``, whatever its case."""
    found: User | None = await session.scalar(
        select(User).where(User.email == normalize_email(email))
    )
    return found


async def ensure_admin(database: Database, email: str, password: str) -> None:
    """Make sure ``email`` has an account with role ``admin`` (SQLite, PostgreSQL).

    Idempotent, and safe when several instances start at once: the insert does
    nothing if another instance created the account first, and the row is locked
    while the missing role is added. An existing account keeps its password, and an
    account an admin deactivated stays deactivated.
    """
    email = normalize_email(email)
    insert = postgresql_insert if database.engine.dialect.name == "postgresql" else sqlite_insert
    password_hash = await hash_password(password)
    async with database.transaction() as session:
        await session.execute(
            insert(User)
            .values(email=email, password_hash=password_hash, roles=["admin", "user"])
            .on_conflict_do_nothing(index_elements=[User.email])
        )
        user = await session.scalar(select(User).where(User.email == email).with_for_update())
        if user is not None and "admin" not in user.roles:
            user.roles = sorted({*user.roles, "admin"})
