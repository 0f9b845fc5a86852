"""The app the rate-limit tests drive: ``Kit`` with auth and rate limiting."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, SecretStr

from fastapi_kit import Kit, KitSettings
from fastapi_kit.auth import Auth, CurrentUser
from fastapi_kit.ratelimit import (
    RateLimiter,
    client_ip,
    exempt,
    form_field,
    limit,
    user_id,
)

SECRET = SecretStr("rate-limit-tests-secret-0123456789-abcdef")


class Item(BaseModel):
    id: int


def is_internal(request: Request) -> bool:
    return request.headers.get("x-internal") == "yes"


async def cost_of(request: Request) -> int:
    return int(request.query_params.get("cost", "1"))


def make_app(
    redis_url: str | None = None,
    *,
    trusted_proxies: list[str] | None = None,
    default: str = "100/minute",
    auth_limit: str = "3/minute",
    ipv6_prefix: int = 64,
) -> tuple[FastAPI, Kit, RateLimiter, Auth]:
    """An app with a route per feature; ``default`` guards the ``/api`` router."""
    kit = Kit(
        KitSettings(
            secret_key=SECRET,
            redis_url=SecretStr(redis_url) if redis_url else None,
            trusted_proxies=trusted_proxies or [],
            rate_limit_default=default,
            rate_limit_auth=auth_limit,
            rate_limit_ipv6_prefix=ipv6_prefix,
        )
    )
    auth = kit.use_auth(claims_only=True)
    limiter = kit.use_rate_limit()
    app = FastAPI()

    @app.get("/ip", dependencies=[Depends(limit("3/minute", key=client_ip))])
    async def by_ip() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/multi")
    @limit("2/minute;3/hour", key=client_ip)
    async def multi() -> PlainTextResponse:
        return PlainTextResponse("plain")

    @app.get("/model", dependencies=[Depends(limit("5/minute", key=client_ip))])
    async def model() -> Item:
        return Item(id=1)

    @app.get("/group/a", dependencies=[Depends(limit("3/minute", key=client_ip, scope="g"))])
    async def group_a() -> dict[str, str]:
        return {"route": "a"}

    @app.get("/group/b", dependencies=[Depends(limit("3/minute", key=client_ip, scope="g"))])
    async def group_b() -> dict[str, str]:
        return {"route": "b"}

    @app.get("/costly", dependencies=[Depends(limit("5/minute", key=client_ip, cost=cost_of))])
    async def costly() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/fixed-cost", dependencies=[Depends(limit("5/minute", key=client_ip, cost=2))])
    async def fixed_cost() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/internal")
    @limit("1/minute", key=client_ip, exempt_when=is_internal)
    async def internal() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/items/{item_id}")
    @limit("3/minute")  # per user, else per address
    async def item(item_id: int, user: CurrentUser) -> dict[str, Any]:
        return {"id": item_id, "user": user.id}

    @app.get("/mine", dependencies=[Depends(limit("2/minute", key=user_id))])
    async def mine(user: CurrentUser) -> dict[str, str]:
        return {"user": user.id}

    @app.get("/closed", dependencies=[Depends(limit("5/minute", key=client_ip, on_error="closed"))])
    async def closed() -> dict[str, str]:
        return {"ok": "yes"}

    @app.post("/login", dependencies=[Depends(kit.auth_rate_limit)])
    async def login(username: Annotated[str, Form()]) -> dict[str, str]:
        return {"username": username}

    @app.post("/signup", dependencies=[Depends(limit("2/minute", key=form_field("email")))])
    async def signup(body: dict[str, str]) -> dict[str, str]:
        return body

    @app.post("/raw", dependencies=[Depends(limit("1/minute", key=form_field("email")))])
    async def raw() -> dict[str, str]:
        return {}

    @app.get("/free")
    async def free() -> dict[str, str]:
        return {"limited": "no"}

    api = APIRouter(prefix="/api", dependencies=[Depends(kit.default_rate_limit)])

    @api.get("/one")
    async def one() -> dict[str, str]:
        return {"route": "one"}

    @api.get("/two")
    async def two() -> dict[str, str]:
        return {"route": "two"}

    @api.get("/own", dependencies=[Depends(limit("2/minute"))])
    async def own() -> dict[str, str]:
        return {"route": "own"}

    @api.get("/user-key", dependencies=[Depends(limit("2/minute", key=user_id))])
    async def user_key(user: CurrentUser) -> dict[str, str]:
        return {"user": user.id}

    @api.get("/exempt")
    @exempt
    async def exempted() -> dict[str, str]:
        return {"route": "exempt"}

    app.include_router(api)
    kit.install(app, logging=False)
    return app, kit, limiter, auth
