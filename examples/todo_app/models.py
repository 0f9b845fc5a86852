"""The tables: users and their todos."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fastapi_kit.accounts import UserMixin
from fastapi_kit.db import Base, TimestampMixin

__all__ = ("Base", "Todo", "User")


class User(UserMixin, Base):
    """An account: the kit's columns (``UserMixin``), kept unique by ``email_key``."""

    __tablename__ = "users"


class Todo(TimestampMixin, Base):
    """A user's todo."""

    __tablename__ = "todos"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    done: Mapped[bool] = mapped_column(default=False)
