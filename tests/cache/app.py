"""The app the endpoint-caching tests drive: counters show when work really ran."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from pydantic import AliasChoices, BaseModel

from fastapi_kit import Kit, KitSettings
from fastapi_kit.auth import Auth, CurrentUser, MemoryRevocationStore
from fastapi_kit.cache import Cache, cached, conditional, invalidate

SECRET = "cache-test-secret-0123456789-abcdefgh"


@dataclass
class World:
    """The app's data and instrumentation, shared by instances like a database."""

    todos: dict[str, list[str]] = field(default_factory=dict)
    runs: Counter[str] = field(default_factory=Counter)
    fail: bool = False
    gate: asyncio.Event | None = None
    pending: dict[str, list[str]] = field(default_factory=dict)
    commit: asyncio.Event | None = None
    computing: asyncio.Event = field(default_factory=asyncio.Event)
    written: asyncio.Event = field(default_factory=asyncio.Event)


def make_app(world: World, redis_url: str | None = None) -> tuple[FastAPI, Auth, Cache]:
    settings = KitSettings(
        secret_key=SECRET,  # type: ignore[arg-type]
        redis_url=redis_url,  # type: ignore[arg-type]
        gc_freeze=False,
        cache_ttl=30,
    )
    kit = Kit(settings)
    auth = kit.use_auth(claims_only=True, revocation=MemoryRevocationStore())
    cache = kit.use_cache()
    app = kit.install(FastAPI(), logging=False)

    @app.get("/todos")
    @cached(tags=["todos:{user_id}"])
    async def list_todos(user: CurrentUser, done: bool = False) -> dict[str, object]:
        world.runs["todos"] += 1
        world.computing.set()
        if world.gate is not None:
            await world.gate.wait()
        if world.fail:
            raise HTTPException(status_code=404, detail="not yet")
        return {"owner": user.id, "done": done, "items": world.todos.get(str(user.id), [])}

    @app.post("/todos", status_code=201)
    async def add_todo(request: Request, user: CurrentUser, title: str) -> dict[str, str]:
        owner = str(user.id)
        await invalidate(request, [f"todos:{owner}"])
        world.pending.setdefault(owner, []).append(title)
        world.written.set()
        if world.commit is not None:  # a slow commit: readers slip in meanwhile
            await world.commit.wait()
        world.todos.setdefault(owner, []).extend(world.pending.pop(owner))
        return {"title": title}

    @app.get("/news")
    @cached(public=True, ttl=10)
    async def news() -> list[str]:
        world.runs["news"] += 1
        return ["kit 0.1 is out"]

    @app.get("/private-anonymous")
    @cached()
    async def private_anonymous() -> dict[str, int]:
        world.runs["private"] += 1
        return {"run": world.runs["private"]}

    @app.get("/things/{thing_id}")
    @conditional
    async def thing(thing_id: int) -> dict[str, int]:
        world.runs["thing"] += 1
        return {"id": thing_id}

    @app.get("/by-key")
    @cached(key=lambda request: "constant")
    async def by_key(user: CurrentUser, page: int = 1) -> dict[str, int]:
        world.runs["by-key"] += 1
        return {"page": page}

    @app.get("/search")
    @cached()
    async def search(
        user: CurrentUser,
        page: Annotated[int, Depends(page_number)],
        tag: Annotated[list[str], Query()] = [],  # noqa: B006  # FastAPI copies defaults
    ) -> dict[str, object]:
        world.runs["search"] += 1
        return {"page": page, "tags": tag}

    @app.get("/filtered")
    @cached(public=True)
    async def filtered(f: Annotated[Filters, Query()]) -> Filters:
        return f

    @app.get("/aliased")
    @cached(public=True)
    async def aliased(x: Annotated[str, Query(validation_alias="y")] = "none") -> dict[str, str]:
        return {"x": x}

    @app.get("/choices")
    @cached(public=True)
    async def choices(
        x: Annotated[str, Query(validation_alias=AliasChoices("a", "b"))] = "none",
    ) -> dict[str, str]:
        return {"x": x}

    @app.get("/raw")
    @cached(public=True)
    async def raw(owner: Annotated[str, Depends(owner_from_query)]) -> dict[str, str]:
        return {"owner": owner}

    @app.get("/own-request")
    @cached(public=True)
    async def own_request(request: Request) -> dict[str, str]:
        return {"lang": request.query_params.get("lang", "en")}

    @app.get("/echo-path")
    @conditional
    async def echo_path(request: Request) -> dict[str, str]:
        return {"path": request.url.path}

    return app, auth, cache


class Filters(BaseModel):
    """A query parameter model: FastAPI reads its fields from the query."""

    q: str = ""
    limit: int = 10


def owner_from_query(request: Request) -> str:
    """App code reading the query itself, unknown to the route's declarations."""
    return request.query_params.get("owner", "me")


def page_number(page: int = 1) -> int:
    """A query parameter a dependency declares."""
    return page


def bearer(auth: Auth, user_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth.tokens.issue_pair(user_id).access_token}"}
