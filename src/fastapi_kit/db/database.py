"""``Database``: the async engine, sessions committed or rolled back as a unit, readiness."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import SecretStr
from sqlalchemy import event, make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from fastapi_kit._extras import optional_extra
from fastapi_kit.context import published
from fastapi_kit.db.config import DatabaseConfig
from fastapi_kit.db.errors import DatabaseUnavailable, translate_error

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from sqlalchemy import URL
    from sqlalchemy.engine.interfaces import DBAPIConnection, Dialect
    from sqlalchemy.ext.asyncio import AsyncEngine
    from sqlalchemy.pool import ConnectionPoolEntry

    from fastapi_kit.settings import KitSettings

__all__ = ("Database",)


class Database:
    """An async SQLAlchemy engine with the session handling a web app needs.

    For example:

    ```python
    database = Database("postgresql+asyncpg://app@db/app")
    app = FastAPI(lifespan=database.lifespan)  # or: Kit installs it for you


    @app.post("/todos")
    async def create(session: DbSession) -> ...: ...
    ```

    * Sessions come from ``async_sessionmaker(expire_on_commit=False)``: objects stay
      readable after the commit, without lazy loads.
    * [`transaction`][fastapi_kit.db.Database.transaction] (and so ``DbSession``)
      commits when the block ends normally, rolls back when anything raises, and
      always closes; database errors leave it as problems (503, 409), see
      [`translate_error`][fastapi_kit.db.translate_error].
    * SQLite connections get ``journal_mode=WAL``, ``foreign_keys=ON`` and a
      ``busy_timeout``, so concurrent writers wait for each other instead of failing.
    * PostgreSQL runs on asyncpg with a bounded pool, pre-ping and a connect timeout;
      a connection attempt that fails becomes a 503 at once.

    Args:
        url: An SQLAlchemy async URL (``sqlite+aiosqlite:///./app.db``,
            ``postgresql+asyncpg://user:password@host/db``), optionally a ``SecretStr``.
        config: Pool and connection settings.
        conflict_messages: Messages for integrity violations (409s), keyed by
            constraint name (``uq_users_email``) or ``table.column`` (``users.email``).

    Raises:
        ValueError: The URL names no driver (``postgresql://``, ``sqlite://``), so
            SQLAlchemy would pick a synchronous one; the message names the async one.
    """

    def __init__(
        self,
        url: str | URL | SecretStr,
        config: DatabaseConfig | None = None,
        *,
        conflict_messages: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config if config is not None else DatabaseConfig()
        self.conflict_messages = dict(conflict_messages or {})
        raw_url = url.get_secret_value() if isinstance(url, SecretStr) else url
        self.url = require_async_driver(raw_url)
        with optional_extra("postgres"):  # SQLAlchemy imports asyncpg for postgresql+asyncpg
            self.engine: AsyncEngine = create_async_engine(self.url, **self._engine_options())
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._logger = structlog.get_logger("fastapi_kit.db")
        event.listen(self.engine.sync_engine, "do_connect", self._connect)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", self._configure_sqlite)

    @classmethod
    def from_settings(cls, settings: KitSettings, **kwargs: Any) -> Database:
        """Create the database of ``DATABASE_URL`` with the ``DB_*`` settings.

        Raises:
            ValueError: ``settings.database_url`` is not set.
        """
        if settings.database_url is None:
            msg = "DATABASE_URL is not set"
            raise ValueError(msg)
        return cls(settings.database_url, DatabaseConfig.from_settings(settings), **kwargs)

    @property
    def is_sqlite(self) -> bool:
        """Whether this is a SQLite database."""
        return self.url.get_backend_name() == "sqlite"

    def _engine_options(self) -> dict[str, Any]:
        config = self.config
        # Parameters are user data (password hashes, tokens): SQLAlchemy writes them
        # into error messages, and so into logs, unless hidden. Echo shows them anyway.
        options: dict[str, Any] = {"echo": config.echo, "hide_parameters": not config.echo}
        in_memory = self.is_sqlite and self.url.database in (None, "", ":memory:")
        if not in_memory:  # in-memory SQLite lives in one connection: no pool to size
            options.update(
                pool_size=config.pool_size,
                max_overflow=config.max_overflow,
                pool_timeout=config.pool_timeout,
                pool_recycle=config.pool_recycle,
                # A SQLite file cannot drop a connection: a ping would be a wasted trip.
                pool_pre_ping=config.pool_pre_ping and not self.is_sqlite,
            )
        if self.url.get_driver_name() == "asyncpg":
            options["connect_args"] = {"timeout": config.connect_timeout}
        return options

    def _connect(
        self,
        dialect: Dialect,
        _record: ConnectionPoolEntry,
        cargs: tuple[Any, ...],
        cparams: dict[str, Any],
    ) -> DBAPIConnection:
        # The drivers raise plain OSError/TimeoutError (or their own types) when the
        # server is down, which SQLAlchemy passes through unwrapped: name it here.
        try:
            return dialect.connect(*cargs, **cparams)
        except Exception as exc:
            self._logger.warning("database_connect_failed", error=repr(exc))
            raise DatabaseUnavailable("The database is unavailable.") from exc

    def _configure_sqlite(self, connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        cursor = connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(self.config.sqlite_busy_timeout * 1000)}")
        finally:
            cursor.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed as a unit when the block ends normally.

        Anything raised inside rolls back; the session is always closed. Database
        errors are raised as API errors (503, 409) from the original exception.
        For scripts, start-up tasks and tests:

        ```python
        async with database.transaction() as session:
            session.add(User(email="admin@example.com"))
        ```

        A session is not safe for concurrent use: give each task of an
        ``asyncio.gather`` its own ``transaction()``.
        """
        session = self.sessionmaker()
        try:
            yield session
            if session.in_transaction():  # untouched, or already committed: nothing to do
                await session.commit()
        except Exception as exc:
            await self._rollback(session)
            translated = translate_error(exc, self.conflict_messages)
            if translated is None:
                raise
            raise translated from exc
        except BaseException:  # cancelled: undo, then let the cancellation through
            await self._rollback(session)
            raise
        finally:
            if session.in_transaction() or session.identity_map:  # else there is nothing to close
                await session.close()

    async def _rollback(self, session: AsyncSession) -> None:
        try:
            await session.rollback()
        except Exception as exc:  # noqa: BLE001  # a dead connection cannot roll back: it is discarded
            self._logger.debug("database_rollback_failed", error=type(exc).__name__)

    async def ping(self) -> None:
        """Run ``SELECT 1``; raises when the database cannot answer (the readiness check)."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    @asynccontextmanager
    async def lifespan(self, _app: object = None) -> AsyncIterator[dict[str, Database]]:
        """Publish this database to requests (lifespan state) and dispose of it at shutdown.

        Use it as the app's lifespan, or let ``Kit`` enter it; ``DbSession`` finds
        the database through the state it yields.
        """
        try:
            yield published(Database, self)
        finally:
            await self.dispose()

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"


#: The async driver to name when a URL has none (SQLAlchemy's default is synchronous).
_ASYNC_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}


def require_async_driver(url: str | URL) -> URL:
    """``url`` parsed, or a ``ValueError`` naming the async driver it lacks."""
    url = make_url(url)
    if url.drivername in _ASYNC_DRIVERS:
        msg = (
            f"the database URL names no async driver: use "
            f"{_ASYNC_DRIVERS[url.drivername]}://... instead of {url.drivername}://..."
        )
        raise ValueError(msg)
    return url
