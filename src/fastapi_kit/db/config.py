"""``DatabaseConfig``: engine and pool settings for a [`Database`][fastapi_kit.db.Database]."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi_kit.settings import KitSettings

__all__ = ("DatabaseConfig",)


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    """How the engine connects and pools.

    The defaults suit a web app: connections are checked before use (so a restarted
    database is noticed), a request waits at most ``pool_timeout`` seconds for a
    connection before it gets a 503, and a connection attempt gives up after
    ``connect_timeout`` seconds.

    Attributes:
        pool_size: Connections kept open (server databases and SQLite files).
        max_overflow: Extra connections opened under load, closed when returned.
        pool_timeout: Seconds a request waits for a free connection before a 503.
        pool_recycle: Seconds after which a pooled connection is replaced.
        pool_pre_ping: Check each connection with a cheap round trip when it is
            checked out, replacing dead ones (after a database restart). Server
            databases only: a SQLite file cannot drop a connection.
        connect_timeout: Seconds a new connection may take (PostgreSQL).
        sqlite_busy_timeout: Seconds a SQLite statement waits for a lock held by
            another connection before it fails ("database is locked").
        echo: Log every SQL statement (debugging only).
    """

    pool_size: int = 5
    max_overflow: int = 10
    pool_timeout: float = 5.0
    pool_recycle: int = 1800
    pool_pre_ping: bool = True
    connect_timeout: float = 5.0
    sqlite_busy_timeout: float = 5.0
    echo: bool = False

    @classmethod
    def from_settings(cls, settings: KitSettings) -> DatabaseConfig:
        """Build the configuration from the ``DB_*`` fields of ``settings``."""
        return cls(
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout,
            pool_recycle=settings.db_pool_recycle,
            connect_timeout=settings.db_connect_timeout,
            sqlite_busy_timeout=settings.db_sqlite_busy_timeout,
            echo=settings.db_echo,
        )
