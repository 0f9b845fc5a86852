"""Alembic environment of the database tests: the pattern the docs show."""

from db.models import TestBase
from fastapi_kit.db.migrations import run_migrations

run_migrations(TestBase.metadata)
