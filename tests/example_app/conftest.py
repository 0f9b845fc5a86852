"""The example app over HTTP, on SQLite + memory and on PostgreSQL + Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from todo_app_helpers import ADMIN_EMAIL, ADMIN_PASSWORD, SECRET

from fastapi_kit.testing import app_client
from todo_app.main import create_app
from todo_app.migrations import upgrade
from todo_app.settings import Settings


@dataclass(frozen=True)
class Backends:
    """Where a test's app keeps its data."""

    name: str
    database_url: str
    redis_url: str | None

    def settings(self, **overrides: Any) -> Settings:
        """The app's settings on these backends; generous limits unless overridden."""
        values: dict[str, Any] = {
            "database_url": SecretStr(self.database_url),
            "redis_url": SecretStr(self.redis_url) if self.redis_url else None,
            "secret_key": SecretStr(SECRET),
            "admin_email": ADMIN_EMAIL,
            "admin_password": SecretStr(ADMIN_PASSWORD),
            "rate_limit_auth": "1000/minute",
            "rate_limit_default": "1000/minute",
            "auth_cookie_secure": False,
            "gc_freeze": False,
        }
        return Settings(**(values | overrides))


@pytest.fixture(params=["sqlite-memory", "postgres-redis"])
def backends(request: pytest.FixtureRequest, tmp_path: Path) -> Backends:
    """A migrated, empty database (and an empty Redis) for the test."""
    if request.param == "sqlite-memory":
        backends = Backends(request.param, f"sqlite+aiosqlite:///{tmp_path / 'todo.db'}", None)
    else:
        backends = Backends(
            request.param,
            request.getfixturevalue("postgres_url"),
            request.getfixturevalue("redis_url"),
        )
    upgrade(backends.database_url)
    return backends


StartApp = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def start_app(backends: Backends) -> StartApp:
    """Start instances of the app, each with its own settings overrides."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(backends.settings(**overrides))
        async with app_client(app, base_url="http://testserver/api/v1") as client:
            yield client

    return start


@pytest.fixture
async def client(start_app: StartApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client of one started instance of the app."""
    async with start_app() as client:
        yield client
