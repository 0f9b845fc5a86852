"""One typed request context: the user where Starlette puts it, no state keys exported."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import FastAPI, Request

import fastapi_kit
from auth.app import Directory, add_user, bearer, make_app
from fastapi_kit.auth import CurrentUser
from fastapi_kit.cache import Cache
from fastapi_kit.context import RequestContext
from fastapi_kit.ratelimit import RateLimiter
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
            "scopes": request.auth.scopes,  # scope["auth"]: AuthCredentials
            "context": context.user is user and context.claims is not None,
        }

    await add_user(directory, auth, 1, roles=("user", "admin"))
    async with app_client(app) as client:
        token = auth.tokens.issue_pair("1", roles=["user", "admin"]).access_token
        response = await client.get("/who", headers=bearer(token))
    assert response.json() == {"user": 1, "scopes": ["admin", "user"], "context": True}


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
