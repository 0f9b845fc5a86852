"""The tables: users and their todos."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fastapi_kit.db import Base, TimestampMixin

__all__ = ("Base", "Todo", "User")


class User(TimestampMixin, Base):
    """An account. ``email`` is stored lower-cased, so uniqueness ignores case."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["user"])
    is_active: Mapped[bool] = mapped_column(default=True)


class Todo(TimestampMixin, Base):
    """A user's todo."""

    __tablename__ = "todos"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    done: Mapped[bool] = mapped_column(default=False)
