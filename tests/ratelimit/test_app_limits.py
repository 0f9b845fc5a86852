"""Limits read from the app's settings when a request comes: module-level routers."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from fastapi_kit import Kit, KitSettings
from fastapi_kit.ratelimit import auth_limits, client_ip, default_limit, limit
from fastapi_kit.testing import app_client

# Made before any settings exist, as a module-level router is.
router = APIRouter(dependencies=[Depends(default_limit())])


@router.get("/items")
async def items() -> dict[str, bool]:
    return {"ok": True}


@router.post("/signup", dependencies=[Depends(limit(auth_limits, key=client_ip))])
async def signup() -> dict[str, bool]:
    return {"ok": True}


def make_app(**settings: str) -> FastAPI:
    kit = Kit(KitSettings(**settings))  # type: ignore[arg-type]
    kit.use_rate_limit()
    app = FastAPI()
    app.include_router(router)
    return kit.install(app, logging=False)


async def test_one_router_takes_each_apps_configured_limits() -> None:
    for allowed in (2, 3):
        app = make_app(rate_limit_default=f"{allowed}/minute", rate_limit_auth="1/minute")
        async with app_client(app) as client:
            first = await client.post("/signup")
            assert first.headers["ratelimit-policy"] == (
                f'"default";q={allowed};w=60, "route";q=1;w=60'
            )
            assert (await client.post("/signup")).status_code == 429  # RATE_LIMIT_AUTH
        app = make_app(rate_limit_default=f"{allowed}/minute")
        async with app_client(app) as client:
            codes = [(await client.get("/items")).status_code for _ in range(allowed + 1)]
            assert codes == [200] * allowed + [429]
        description = app.openapi()["paths"]["/items"]["get"]["description"]
        assert f"{allowed} per 1 minute (default)" in description


async def test_app_limits_without_a_limiter_are_a_set_up_error() -> None:
    app = FastAPI()
    app.include_router(router)
    Kit(KitSettings()).install(app, logging=False)  # no use_rate_limit()
    async with app_client(app) as client:
        assert (await client.get("/items")).status_code == 500
