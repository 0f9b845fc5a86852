"""Alembic, configured in code: ``upgrade`` to the newest schema, or add a ``revision``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

__all__ = ("alembic_config", "revision", "upgrade")

SCRIPTS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """Alembic's configuration for this service's scripts and ``database_url``."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, target: str = "head") -> None:
    """Migrate the database to ``target`` (the newest revision by default)."""
    command.upgrade(alembic_config(database_url), target)


def revision(database_url: str, message: str) -> None:
    """Write a new revision with what the models changed since the database's schema."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
