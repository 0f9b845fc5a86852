"""Accounts beyond the kit's routers: the configured admin, and keeping one admin active."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from sqlalchemy import String, cast, false, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from fastapi_kit.accounts import SQLAlchemyUserStore, email_key, normalize_email
from fastapi_kit.auth import hash_password, verify_password
from fastapi_kit.db import DbSession
from todo_app.models import User

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fastapi_kit.db import Database

__all__ = (
    "count_active_admins",
    "ensure_admin",
    "is_active_admin",
    "lock_account_changes",
    "user_store",
)

#: The PostgreSQL advisory lock that serialises changes to roles and status.
ACCOUNT_CHANGES_LOCK = 0x70D0_AD31


def user_store(session: DbSession) -> SQLAlchemyUserStore[User]:
    """The request's accounts, for the kit's routers (a dependency)."""
    return SQLAlchemyUserStore(session, User)


async def lock_account_changes(session: AsyncSession) -> None:
    """Serialise changes to roles and status until ``session`` commits or rolls back.

    Two admins demoting each other at once must not both succeed: each checks that
    another active admin remains, so the checks and the changes must not overlap.
    PostgreSQL takes a transaction-scoped advisory lock; on SQLite, any write takes
    the database's write lock, so an update of no row does.
    """
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(ACCOUNT_CHANGES_LOCK)))
    else:
        await session.execute(update(User).where(false()).values(is_active=User.is_active))


def is_active_admin(user: User | None) -> bool:
    """Whether ``user`` exists, is active and holds role ``admin``."""
    return user is not None and user.is_active and "admin" in user.roles


async def count_active_admins(session: AsyncSession, *, excluding: int | None = None) -> int:
    """How many active accounts hold role ``admin`` (other than ``excluding``)."""
    query = select(func.count()).where(User.is_active, cast(User.roles, String).contains('"admin"'))
    if excluding is not None:
        query = query.where(User.id != excluding)
    return await session.scalar(query) or 0


async def ensure_admin(database: Database, email: str, password: str) -> None:
    """Make sure ``email`` has an account with role ``admin`` (SQLite, PostgreSQL).

    Idempotent, and safe when several instances start at once: the insert does
    nothing if another instance created the account first, and the row is locked
    while it is checked. An existing account without the role is promoted only if
    its password is ``password``: whoever registered the address before the
    operator configured it does not become admin (the refusal is logged). An
    existing account keeps its password, and one an admin deactivated stays
    deactivated.
    """
    email, key = normalize_email(email), email_key(email)
    insert = postgresql_insert if database.engine.dialect.name == "postgresql" else sqlite_insert
    password_hash = await hash_password(password)
    async with database.transaction() as session:
        created = await session.scalar(
            insert(User)
            .values(
                email=email,
                email_key=key,
                password_hash=password_hash,
                roles=["admin", "user"],
                is_verified=True,  # the operator's own address
            )
            .on_conflict_do_nothing(index_elements=[User.email_key])
            .returning(User.id)
        )
        if created is not None:
            return
        user = await session.scalar(select(User).where(User.email_key == key).with_for_update())
        if user is None:
            return
        if "admin" in user.roles:
            if user.email == email:  # the operator's own address, not a look-alike of it
                user.is_verified = True  # (databases from before migration 0002)
            return
        if not await verify_password(password, user.password_hash):
            structlog.get_logger("todo_app").error(
                "admin_bootstrap_refused",
                detail="ADMIN_EMAIL names an existing account whose password is not "
                "ADMIN_PASSWORD: it was not made admin. Use another ADMIN_EMAIL, or "
                "promote the account from an admin session.",
            )
            return
        user.roles = sorted({*user.roles, "admin"})
        user.is_verified = user.is_verified or user.email == email
