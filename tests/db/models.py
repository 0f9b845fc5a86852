"""Models of the database tests (their own metadata, with the kit's naming convention)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fastapi_kit.db import NAMING_CONVENTION, TimestampMixin


class TestBase(DeclarativeBase):
    __test__ = False  # not a test class, despite the name
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Owner(TestBase):
    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)


class Widget(TimestampMixin, TestBase):
    __tablename__ = "widgets"
    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(default=0)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
