"""Model helpers: a naming convention Alembic likes, UTC timestamps, a declarative base."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = ("NAMING_CONVENTION", "Base", "TimestampMixin", "UTCDateTime", "utcnow")

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names (``uq_users_email``, ``fk_todos_owner_id_users``...).

With them Alembic can drop and alter constraints by name on every database.
"""


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    PostgreSQL keeps ``timestamptz``; SQLite keeps text without an offset, which
    this type reads back as UTC. Naive datetimes are refused on the way in: their
    zone is unknowable.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Convert to UTC before storing."""
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetime: give it a timezone (datetime.now(UTC))"
            raise ValueError(msg)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Attach UTC to values the database returns without an offset."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TimestampMixin:
    """``created_at`` and ``updated_at``, kept by the ORM and defaulted by the database.

    The ORM sets both when a row is inserted and ``updated_at`` on every update, so
    the values are known without a round trip; the server defaults cover rows
    written outside the ORM.
    """

    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=func.now(), nullable=False
    )


class Base(DeclarativeBase):
    """A declarative base whose metadata uses the kit's ``NAMING_CONVENTION``.

    One per application: every model deriving from it shares its metadata (what
    Alembic compares). For a separate set of tables, declare your own base the same
    way: ``class Base(DeclarativeBase): metadata = MetaData(naming_convention=NAMING_CONVENTION)``.
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
