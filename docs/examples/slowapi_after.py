"""The same app on the kit: the same Limiter, key function and limits; asyncio counters."""

from fastapi import Depends, FastAPI, Request
from slowapi import Limiter
from slowapi.util import get_remote_address

from fastapi_kit.errors import install_error_handlers
from fastapi_kit.ratelimit import default_limit, exempt, from_slowapi, install_rate_limiter, limit

limiter = Limiter(key_func=get_remote_address, default_limits=["100/minute"])  # unchanged
kit_limiter = from_slowapi(limiter)  # its storage_uri and default_limits, on limits.aio
app = FastAPI(
    lifespan=kit_limiter.lifespan,
    dependencies=[Depends(default_limit(key=get_remote_address))],  # the default limits
)
install_rate_limiter(app, kit_limiter)  # the X-RateLimit-* headers, the 429s in OpenAPI
install_error_handlers(app)  # 429s as problem+json, with Retry-After


@app.get("/search")
@exempt  # as in slowapi, a route's own limit replaces the default ones
@limit("5/minute", key=get_remote_address)
async def search(request: Request, q: str) -> list[str]:
    """Five searches a minute per client address."""
    return [q]


@app.get("/items")
async def items() -> list[int]:
    """The default limits: 100 requests a minute per client address."""
    return [1, 2, 3]
