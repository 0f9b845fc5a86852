"""A small app for the in-process tracing tests: nested routers, a database, Redis."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from fastapi_kit.tracing import Tracing, TracingMiddleware


def make_app(
    tracing: Tracing, *, engine: AsyncEngine | None = None, redis: Any = None, **kwargs: Any
) -> FastAPI:
    """``/api/v1/todos/{todo_id}`` two routers deep, plus routes that fail and query."""
    app = FastAPI(**kwargs)
    todos = APIRouter(prefix="/todos")
    log = structlog.get_logger("tests.tracing")

    @todos.get("/{todo_id}")
    async def get_todo(todo_id: int) -> dict[str, Any]:
        log.info("todo_read", todo_id=todo_id)
        return {"id": todo_id}

    @todos.get("/{todo_id}/fail")
    async def fail(todo_id: int) -> None:
        raise RuntimeError(f"todo {todo_id} broke")

    @todos.get("/{todo_id}/sql")
    async def query(todo_id: int) -> dict[str, Any]:
        assert engine is not None
        async with engine.connect() as connection:
            value = (await connection.execute(text("SELECT :v"), {"v": todo_id})).scalar()
        log.info("queried")
        return {"value": value}

    @todos.get("/{todo_id}/redis")
    async def cached(todo_id: int) -> dict[str, Any]:
        await redis.set(f"todo:{todo_id}", "x")
        return {"value": (await redis.get(f"todo:{todo_id}")).decode()}

    api = APIRouter(prefix="/api/v1")
    api.include_router(todos)
    app.include_router(api)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(TracingMiddleware, tracing=tracing)
    return app
