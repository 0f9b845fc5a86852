"""Alembic, configured in code: ``upgrade`` to the newest schema, or add a ``revision``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from fastapi_kit.db import Database

__all__ = ("NotMigrated", "alembic_config", "check_schema", "revision", "upgrade")

SCRIPTS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """Alembic's configuration for this service's scripts and ``database_url``."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, target: str = "head") -> str:
    """Migrate the database to ``target`` (the newest revision by default).

    Returns:
        The revision the database is at now.
    """
    config = alembic_config(database_url)
    command.upgrade(config, target)
    return ScriptDirectory.from_config(config).get_revision(target).revision


class NotMigrated(RuntimeError):
    """The database's schema is not the newest: the service would fail on every query."""


async def check_schema(database: Database) -> None:
    """Refuse to start on a database that was not migrated to the newest revision.

    Raises:
        NotMigrated: It is empty or behind; the message says what to run.
    """
    heads = set(ScriptDirectory(str(SCRIPTS)).get_heads())
    async with database.engine.connect() as connection:
        current = await connection.run_sync(_current_heads)
    if current != heads:
        state = f"is at revision {', '.join(sorted(current))}" if current else "has no tables"
        msg = (
            f"the database {state}, the code needs revision {', '.join(sorted(heads))}: "
            "run `python -m todo_app migrate` (or `make migrate`) first"
        )
        raise NotMigrated(msg)


def _current_heads(connection: Connection) -> set[str]:
    # Alembic's own table, read directly: MigrationContext would log two lines of
    # set-up at every start.
    if not inspect(connection).has_table("alembic_version"):
        return set()
    return set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def revision(database_url: str, message: str) -> None:
    """Write a new revision with what the models changed since the database's schema."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
