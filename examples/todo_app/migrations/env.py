"""Alembic environment: the kit runs the migrations through the async engine."""

from fastapi_kit.db.migrations import run_migrations
from todo_app.models import Base

run_migrations(Base.metadata)
