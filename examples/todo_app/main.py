"""The application: ``create_app()`` composes the kit's blocks and the routers.

``uvicorn todo_app.main:app --app-dir examples`` serves it; ``app`` is created on
first access, from the environment.
"""

from __future__ import annotations

import functools
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI

from fastapi_kit import Kit
from fastapi_kit.accounts import account_routers
from fastapi_kit.auth import RolePolicy
from todo_app.accounts import ensure_admin, user_store
from todo_app.migrations import check_schema
from todo_app.routers import admin, todos
from todo_app.settings import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ("create_app",)

API_PREFIX = "/api/v1"
#: The descriptions of the routers' tags in the OpenAPI document (the kit describes
#: ``health`` itself).
OPENAPI_TAGS = [
    {
        "name": "auth",
        "description": "Registration, email verification, password reset, logins "
        "(tokens or cookie, with TOTP), refresh, logout.",
    },
    {
        "name": "users",
        "description": "The authenticated user's own account: password, two-factor.",
    },
    {"name": "todos", "description": "Your todos: create, read, change, delete, list."},
    {"name": "admin", "description": "Every user's todos and account changes (role `admin`)."},
]


# --8<-- [start:create_app]
def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service from ``settings`` (by default, from the environment).

    Redis backs the cache, the rate limits, token revocation and used TOTP codes
    when ``REDIS_URL`` is set; process memory does otherwise. The account routes are
    the kit's ready-made routers over the app's ``User`` model.
    """
    settings = settings if settings is not None else Settings()
    kit = Kit(settings)
    database = kit.database
    assert database is not None  # noqa: S101  # Settings always has a DATABASE_URL
    kit.use_auth(claims_only=True, role_policy=RolePolicy(hierarchy={"admin": ["user"]}))
    kit.use_accounts(app_name="Todo API")  # mail through SMTP_URL; unset: none sent
    kit.use_cache()
    kit.use_rate_limit()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The kit's lifespan has started the database (and Redis) by now.
        await check_schema(database)
        if settings.admin_email is not None and settings.admin_password is not None:
            await ensure_admin(
                database, settings.admin_email, settings.admin_password.get_secret_value()
            )
        yield

    app = FastAPI(
        title="Todo API",
        version="1.0.0",
        summary="The fastapi-kit example service.",
        openapi_tags=OPENAPI_TAGS,
        lifespan=lifespan,
    )
    api = APIRouter(prefix=API_PREFIX)
    for router in (*account_routers(user_store), todos.router, admin.router):
        api.include_router(router)
    app.include_router(api)
    return kit.install(app)


# --8<-- [end:create_app]


@functools.cache
def _default_app() -> FastAPI:
    return create_app()


def __getattr__(name: str) -> FastAPI:
    """``app``: the service configured from the environment, built on first use."""
    if name == "app":
        return _default_app()
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
