"""A slowapi app, before the move: a default limit for every route, a tighter one."""

from fastapi import FastAPI, Request
from slowapi import Limiter, _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded
from slowapi.middleware import SlowAPIMiddleware
from slowapi.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=["100/minute"])
app = FastAPI()
app.state.limiter = limiter
app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)  # type: ignore[arg-type]
app.add_middleware(SlowAPIMiddleware)  # the default limits


@app.get("/search")
@limiter.limit("5/minute")  # instead of the default limits
async def search(request: Request, q: str) -> list[str]:
    """Five searches a minute per client address."""
    return [q]


@app.get("/items")
async def items() -> list[int]:
    """The default limits: 100 requests a minute per client address."""
    return [1, 2, 3]
