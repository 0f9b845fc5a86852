"""Rate limiting with Kit: a default budget, tighter route limits, login limits."""

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form

from fastapi_kit import Kit, KitSettings
from fastapi_kit.ratelimit import client_ip, exempt, limit

kit = Kit(KitSettings())  # REDIS_URL set: one budget across every instance
limiter = kit.use_rate_limit()  # Redis unreachable: requests go through (on_error="open")
app = FastAPI()

# RATE_LIMIT_DEFAULT for every route of the router: one budget per user (per address
# when anonymous), shared by all of them.
api = APIRouter(prefix="/api", dependencies=[Depends(kit.default_rate_limit)])


@api.get("/search", dependencies=[Depends(limit("10/minute"))])  # and a tighter own limit
async def search(q: str) -> list[str]:
    """Each route has its own budget, per user or address."""
    return [q]


@api.post("/exports")
@limit("2/minute;20/day", key=client_ip, scope="exports")  # as a decorator; two limits
async def export() -> dict[str, str]:
    """Every route limited with scope="exports" shares one budget per address."""
    return {"status": "queued"}


@api.get("/status")
@exempt  # not counted against the default budget
async def status() -> dict[str, str]:
    """Monitoring polls this; it must not use up the clients' budget."""
    return {"status": "ok"}


app.include_router(api)


@app.post("/auth/token", dependencies=[Depends(kit.auth_rate_limit)])  # RATE_LIMIT_AUTH
async def token(
    username: Annotated[str, Form()], password: Annotated[str, Form()]
) -> dict[str, str]:
    """Limited per client address and per account name; fails closed (503) on outages."""
    return {"username": username}


kit.install(app)
