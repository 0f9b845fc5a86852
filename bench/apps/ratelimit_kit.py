"""Bench app: an authenticated read of one row, with and without a rate limit.

The kit's full stack (``Kit`` with auth and the database). ``BENCH_RATE_LIMIT=on``
sets up the limiter and limits the route per user (``user_or_ip``, the key of the
default budget) with a limit too large to be reached: every request is checked and
counted, none is refused. ``off``: no limiter at all. With ``REDIS_URL`` set (the
harness starts a throwaway server) the counters are in Redis, and so are the token
revocations, limit or not.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from db_common import DATABASE_URL, Item, create_item
from fastapi import Depends, FastAPI
from fastapi.responses import PlainTextResponse
from pydantic import SecretStr

from fastapi_kit import Kit, KitSettings
from fastapi_kit.auth import CurrentUser
from fastapi_kit.db import Database, DbSession
from fastapi_kit.errors import NotFound
from fastapi_kit.ratelimit import limit

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

LIMITED = os.environ.get("BENCH_RATE_LIMIT", "off") == "on"

database = Database(DATABASE_URL)
settings = KitSettings(secret_key=SecretStr("bench-secret-0123456789-0123456789-abc"))
kit = Kit(settings, database=database)
auth = kit.use_auth(claims_only=True)
if LIMITED:
    kit.use_rate_limit()


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Create the row (the kit's lifespan has started the database)."""
    await create_item(database.engine)
    yield


app = kit.install(FastAPI(lifespan=lifespan))


@app.get(
    "/items/{item_id}",
    dependencies=[Depends(limit("1000000000/minute"))] if LIMITED else [],
)
async def read_item(item_id: int, user: CurrentUser, session: DbSession) -> dict[str, int | str]:
    """Read one row for an authenticated user."""
    item = await session.get(Item, item_id)
    if item is None:
        raise NotFound
    return {"id": item.id, "name": item.name, "user": user.id}


@app.get("/bench-token", response_class=PlainTextResponse)
async def bench_token() -> str:
    """A valid token for the load generator."""
    return auth.tokens.issue_pair("1", []).access_token
