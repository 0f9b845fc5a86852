"""One typed request context: the user where Starlette puts it, no state keys exported."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request

import fastapi_kit
from auth.app import Directory, add_user, bearer, make_app
from fastapi_kit.auth import CurrentUser, TokenUser
from fastapi_kit.cache import Cache
from fastapi_kit.context import RequestContext
from fastapi_kit.errors import install_error_handlers
from fastapi_kit.ratelimit import RateLimiter, install_rate_limiter, limit, user_id
from fastapi_kit.testing import app_client
from helpers import LogCapture


async def test_the_authenticated_user_is_where_starlette_code_looks_for_it() -> None:
    directory = Directory()
    app, auth = make_app(directory)

    @app.get("/who")
    async def who(request: Request, user: CurrentUser) -> dict[str, object]:
        context = RequestContext.of(request.scope)
        return {
            "user": request.user.id,  # scope["user"], as AuthenticationMiddleware sets it
            "scopes": request.auth.scopes,  # scope["auth"]: the user's roles
            "context": context.user is user and context.claims is not None,
            "state": request.state.user_id,  # documented for application code
        }

    await add_user(directory, auth, 1, roles=("user", "admin"))
    async with app_client(app) as client:
        token = auth.tokens.issue_pair("1", roles=["user"]).access_token  # roles since changed
        response = await client.get("/who", headers=bearer(token))
    assert response.json() == {
        "user": 1,
        "scopes": ["admin", "user"],
        "context": True,
        "state": 1,
    }


def test_no_module_exports_a_state_key() -> None:
    for module in pkgutil.walk_packages(fastapi_kit.__path__, "fastapi_kit."):
        exported = getattr(importlib.import_module(module.name), "__all__", ())
        assert not [name for name in exported if name.endswith("STATE_KEY")], module.name


async def test_a_service_without_its_middleware_says_so_once_at_start_up(
    logs: LogCapture,
) -> None:
    cache, limiter = Cache(), RateLimiter()
    for service in (cache, limiter):
        app = FastAPI(lifespan=service.lifespan)  # no install: no middleware
        async with app_client(app):
            pass
    missing = [e["event"] for e in logs.events if e["event"].endswith("_middleware_missing")]
    assert missing == ["cache_middleware_missing", "rate_limit_middleware_missing"]
    installed = Cache()
    app = FastAPI(lifespan=installed.lifespan)
    installed.install(app)
    async with app_client(app):
        pass
    assert not logs.named("cache_middleware_missing")[1:]  # nothing more


async def test_a_request_id_the_app_chose_is_the_one_problems_carry() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.middleware("http")
    async def correlation_id(request: Request, call_next: Any) -> Any:
        request.state.request_id = "my-correlation-id"
        return await call_next(request)

    async with app_client(app) as client:
        response = await client.get("/nowhere")
    assert response.json()["request_id"] == "my-correlation-id"


class ApiKeys:
    """An authenticator of the app's own: the rate limiter's user keys use it."""

    async def authenticate_request(self, request: Request) -> TokenUser | None:
        key = request.headers.get("x-api-key")
        return None if key is None else TokenUser(id=key, roles=frozenset())


async def test_per_user_limits_count_the_users_any_authenticator_finds() -> None:
    limiter = RateLimiter()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, object]]:
        async with limiter.lifespan(app) as state:
            yield {**state, "api_keys": ApiKeys()}

    app = FastAPI(lifespan=lifespan)
    install_error_handlers(app)
    install_rate_limiter(app, limiter)

    @app.get("/quota", dependencies=[Depends(limit("1/minute", key=user_id))])
    async def quota() -> dict[str, bool]:
        return {"ok": True}

    async with app_client(app) as client:
        codes = [
            (await client.get("/quota", headers={"x-api-key": who})).status_code
            for who in ("alice", "bob", "alice")
        ]
    assert codes == [200, 200, 429]
